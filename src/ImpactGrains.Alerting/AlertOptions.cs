namespace ImpactGrains.Alerting;

/// <summary>The <c>Impact:Alerts</c> configuration section: rule caching and webhook delivery.</summary>
public sealed class AlertOptions
{
    public const string Section = "Impact:Alerts";

    /// <summary>How long the evaluator trusts its cached rules; changes made through this silo's API apply at once.</summary>
    public TimeSpan RuleRefresh { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the dispatcher looks for due deliveries when nothing woke it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many deliveries one dispatcher claims and sends at once.</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>Retries within one dispatch (Microsoft.Extensions.Http.Resilience), on 5xx, 408, 429, timeouts and network errors.</summary>
    public int Retries { get; set; } = 3;

    /// <summary>The base delay of those retries: exponential with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The limit on one HTTP attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The limit on one dispatch, retries included.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>When a whole dispatch fails, the delivery is due again after this, doubling per failed dispatch.</summary>
    public TimeSpan RedeliveryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The cap of that doubling.</summary>
    public TimeSpan MaxRedeliveryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A delivery that has made this many HTTP attempts without success is given up (status failed).</summary>
    public int MaxAttempts { get; set; } = 40;

    /// <summary>
    /// Networks (CIDR or one address) and host names (exact, or <c>*.example.com</c>) that webhooks may reach although
    /// they are internal; by default webhooks reach only public addresses (see <see cref="WebhookAddressPolicy"/>).
    /// </summary>
    public List<string> AllowedWebhookHosts { get; set; } = [];

    /// <summary>How long a claimed delivery belongs to its dispatcher: longer than a dispatch can take.</summary>
    public TimeSpan Lease => TotalTimeout + TimeSpan.FromSeconds(30);
}
