using System.Diagnostics.Metrics;
using ImpactGrains.Alerting;
using ImpactGrains.Grains;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// The host's own operational metrics, on ImpactGrains' meter (<see cref="ImpactMetrics.MeterName"/>) next to
/// <see cref="ImpactMetrics"/>: storage reachability and requests refused because a store or silo was unavailable
/// (webhook deliveries count in <see cref="WebhookMetrics"/>). Static, because the places that record them (an
/// exception handler, a health check) are built by the framework; the exporter listens to the meter by name.
/// </summary>
public static class OperationsMetrics
{
    private static readonly Meter Meter = new(ImpactMetrics.MeterName);

    // -1: no readiness check has run yet, so nothing is reported.
    private static int storageReachable = -1;

    /// <summary>Requests answered 503 because the database (reason storage) or a grain's silo (reason silo) could not be reached.</summary>
    public static readonly Counter<long> Unavailable =
        Meter.CreateCounter<long>("impactgrains.requests.unavailable", "{request}", "Requests answered 503 because the database (reason storage) or a grain's silo (reason silo) could not be reached");

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

        WebhookMetrics.Initialize();
    }

    /// <summary>Records the outcome of a readiness check's storage probe.</summary>
    public static void StorageChecked(bool reachable) => Volatile.Write(ref storageReachable, reachable ? 1 : 0);

    private static IEnumerable<Measurement<int>> ObserveStorage()
    {
        var value = Volatile.Read(ref storageReachable);
        return value < 0 ? [] : [new Measurement<int>(value)];
    }
}
