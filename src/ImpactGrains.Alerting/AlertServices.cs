using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace ImpactGrains.Alerting;

/// <summary>
/// Wires alert evaluation and webhook delivery. The host registers the <see cref="IAlertStore"/> (its storage profile)
/// and feeds the evaluator its signals.
/// </summary>
public static class AlertServices
{
    /// <summary>The named HttpClient that sends webhooks.</summary>
    public const string WebhookClient = "impact-webhooks";

    public static IServiceCollection AddAlerting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AlertOptions>().Bind(configuration.GetSection(AlertOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AlertOptions>, AlertOptionsValidation>();
        services.AddAlertWebhookClient();
        services.AddSingleton<AlertOutboxSignal>();
        services.AddSingleton<AlertEvaluator>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        return services;
    }

    /// <summary>
    /// The webhook client: a total timeout around retries (exponential backoff with jitter, on transient failures:
    /// 5xx, 408, 429, network errors and attempt timeouts) around a per-attempt timeout, then the handler that writes
    /// each attempt to the delivery log. Redirects are not followed: a webhook must answer 2xx itself.
    /// </summary>
    public static IHttpClientBuilder AddAlertWebhookClient(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new WebhookAddressPolicy(sp.GetRequiredService<IOptions<AlertOptions>>().Value.AllowedWebhookHosts));
        var client = services.AddHttpClient(WebhookClient, (sp, http) =>
            {
                // The resilience pipeline's total timeout is the limit; this backstop also covers anything outside the
                // pipeline (the dispatcher reads only the answer's status and headers, never its body).
                http.Timeout = sp.GetRequiredService<IOptions<AlertOptions>>().Value.TotalTimeout + TimeSpan.FromSeconds(5);
                http.DefaultRequestHeaders.UserAgent.ParseAdd("ImpactGrains-Webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                // Connect only where the SSRF policy allows, checked on the address actually connected to; never through
                // a proxy, whose address is all that the check would see.
                ConnectCallback = sp.GetRequiredService<WebhookAddressPolicy>().ConnectAsync,
                UseProxy = false,
            });
        client.AddResilienceHandler("webhook", (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<AlertOptions>>().Value;
            pipeline.AddTimeout(options.TotalTimeout);
            if (options.Retries > 0)
            {
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = options.Retries,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.RetryDelay,
                });
            }

            pipeline.AddTimeout(options.AttemptTimeout);
        });
        client.AddHttpMessageHandler(() => new DeliveryAttemptHandler());
        return client;
    }
}
