using System.Diagnostics.Metrics;

namespace ImpactGrains.Alerting;

/// <summary>
/// Webhook delivery's metrics. Static, because the handler that records each attempt is built by the HTTP client
/// factory; they go on ImpactGrains' meter, which the host exports by name.
/// </summary>
public static class WebhookMetrics
{
    /// <summary>
    /// ImpactGrains' meter, as <c>ImpactMetrics.MeterName</c> in the grains project names it (this project sits below
    /// that one); the host exports both names, so the metrics stay exported should the two ever differ.
    /// </summary>
    public const string MeterName = "ImpactGrains";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Each HTTP attempt of a webhook delivery, retries included, by outcome (delivered or failed).</summary>
    public static readonly Counter<long> Attempts =
        Meter.CreateCounter<long>("impactgrains.webhook.attempts", "{attempt}", "HTTP attempts of webhook deliveries, retries included, by outcome (delivered, failed)");

    /// <summary>How long each HTTP attempt of a webhook delivery took.</summary>
    public static readonly Histogram<double> AttemptDuration =
        Meter.CreateHistogram("impactgrains.webhook.attempt.duration", "s", "Time one webhook attempt took, until its answer's status or its failure",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    /// <summary>Deliveries settled for good, by status: delivered, failed (given up) or cancelled (rule deleted).</summary>
    public static readonly Counter<long> Deliveries =
        Meter.CreateCounter<long>("impactgrains.webhook.deliveries", "{delivery}", "Webhook deliveries settled for good, by status (delivered, failed, cancelled)");

    /// <summary>Reports every known label value at 0 from the start, so that each series exists before its first count.</summary>
    public static void Initialize()
    {
        foreach (var outcome in new[] { "delivered", "failed" })
        {
            Attempts.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }

        foreach (var status in new[] { "delivered", "failed", "cancelled" })
        {
            Deliveries.Add(0, new KeyValuePair<string, object?>("status", status));
        }
    }
}
