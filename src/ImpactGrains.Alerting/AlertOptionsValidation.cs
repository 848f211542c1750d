using Microsoft.Extensions.Options;

namespace ImpactGrains.Alerting;

/// <summary>Checks <c>Impact:Alerts</c> at start-up: every entry of the webhook allow-list must parse.</summary>
public sealed class AlertOptionsValidation : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options) =>
        WebhookAddressPolicy.Validate(options.AllowedWebhookHosts) is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
}
