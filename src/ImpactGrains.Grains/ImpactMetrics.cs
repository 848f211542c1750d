using System.Diagnostics.Metrics;

namespace ImpactGrains.Grains;

/// <summary>
/// ImpactGrains' own metrics (meter <see cref="MeterName"/>), next to Orleans' and ASP.NET Core's. Exported by the host
/// (Prometheus at /metrics, OTLP when configured).
/// </summary>
public sealed class ImpactMetrics : IDisposable
{
    public const string MeterName = "ImpactGrains";

    private readonly Meter meter;

    public ImpactMetrics(IMeterFactory factory)
    {
        meter = factory.Create(MeterName);
        Accepted = meter.CreateCounter<long>("impactgrains.events.accepted", "{event}", "Events committed to the log, by type");
        Duplicates = meter.CreateCounter<long>("impactgrains.events.duplicate", "{event}", "Events whose id was already in the log, by type");
        Rejected = meter.CreateCounter<long>("impactgrains.events.rejected", "{event}", "Events refused by validation, by type (unknown when unreadable)");
        // Durations in seconds, as Prometheus and OpenTelemetry's conventions (and ASP.NET Core's own metrics) have them.
        CommitLatency = meter.CreateHistogram("impactgrains.batch.commit.duration", "s", "Time to commit one request's events to the log", advice: SecondsBuckets);
        ApplyLatency = meter.CreateHistogram("impactgrains.grain.apply.duration", "s", "Time an entity grain takes to apply one batch", advice: SecondsBuckets);
        Freshness = meter.CreateHistogram("impactgrains.freshness", "s", "Time from the commit until an entity grain holds the events (and its score shows them)", advice: SecondsBuckets);
        PendingDeliveries = meter.CreateUpDownCounter<long>("impactgrains.delivery.pending", "{delivery}", "Entity batches committed to the log and not yet applied by their grain (background retries included)");
    }

    public Counter<long> Accepted { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> Rejected { get; }

    public Histogram<double> CommitLatency { get; }

    public Histogram<double> ApplyLatency { get; }

    public Histogram<double> Freshness { get; }

    public UpDownCounter<long> PendingDeliveries { get; }

    /// <summary>From 0.5 ms to 30 s: commits and grain calls take milliseconds, a slow delivery seconds.</summary>
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    };

    /// <summary>Observes a gauge; the callback is read at each collection.</summary>
    public void ObserveGauge(string name, string unit, string description, Func<long> read) =>
        meter.CreateObservableGauge(name, read, unit, description);

    public void Dispose() => meter.Dispose();
}
