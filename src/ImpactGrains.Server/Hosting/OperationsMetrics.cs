using System.Diagnostics.Metrics;
using ImpactGrains.Grains;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// The host's own operational metrics, on ImpactGrains' meter (<see cref="ImpactMetrics.MeterName"/>) next to
/// <see cref="ImpactMetrics"/>: storage reachability, requests refused because a store or silo was unavailable, and
/// webhook deliveries. Static, because the places that record them (an exception handler, a health check, the webhook
/// handler) are built by the framework; the exporter listens to the meter by name.
/// </summary>
public static class OperationsMetrics
{
    private static readonly Meter Meter = new(ImpactMetrics.MeterName);

    // -1: no readiness check has run yet, so nothing is reported.
    private static int storageReachable = -1;

    /// <summary>Requests answered 503 because the database (reason storage) or a grain's silo (reason silo) could not be reached.</summary>
    public static readonly Counter<long> Unavailable =
        Meter.CreateCounter<long>("impactgrains.requests.unavailable", "{request}", "Requests answered 503 because the database (reason storage) or a grain's silo (reason silo) could not be reached");

    /// <summary>Each HTTP attempt of a webhook delivery, retries included, by outcome (delivered or failed).</summary>
    public static readonly Counter<long> WebhookAttempts =
        Meter.CreateCounter<long>("impactgrains.webhook.attempts", "{attempt}", "HTTP attempts of webhook deliveries, retries included, by outcome (delivered, failed)");

    public static readonly Histogram<double> WebhookAttemptDuration =
        Meter.CreateHistogram("impactgrains.webhook.attempt.duration", "s", "Time one webhook attempt took, until its answer's status or its failure",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    /// <summary>Deliveries settled for good, by status: delivered, failed (given up) or cancelled (rule deleted).</summary>
    public static readonly Counter<long> WebhookDeliveries =
        Meter.CreateCounter<long>("impactgrains.webhook.deliveries", "{delivery}", "Webhook deliveries settled for good, by status (delivered, failed, cancelled)");

    static OperationsMetrics()
    {
        Meter.CreateObservableGauge("impactgrains.storage.reachable", ObserveStorage, "1",
            "1 when this silo's last readiness check reached the database, 0 when it did not");
    }

    /// <summary>
    /// Reports every known label value of the counters at 0 from the start, as Prometheus advises, so that a series
    /// exists (and rate() and increase() work) before the first failure it counts.
    /// </summary>
    public static void Initialize()
    {
        foreach (var reason in new[] { "storage", "silo" })
        {
            Unavailable.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }

        foreach (var outcome in new[] { "delivered", "failed" })
        {
            WebhookAttempts.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }

        foreach (var status in new[] { "delivered", "failed", "cancelled" })
        {
            WebhookDeliveries.Add(0, new KeyValuePair<string, object?>("status", status));
        }
    }

    /// <summary>Records the outcome of a readiness check's storage probe.</summary>
    public static void StorageChecked(bool reachable) => Volatile.Write(ref storageReachable, reachable ? 1 : 0);

    private static IEnumerable<Measurement<int>> ObserveStorage()
    {
        var value = Volatile.Read(ref storageReachable);
        return value < 0 ? [] : [new Measurement<int>(value)];
    }
}
