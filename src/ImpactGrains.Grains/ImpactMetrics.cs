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
        CommitLatency = meter.CreateHistogram<double>("impactgrains.batch.commit.duration", "ms", "Time to commit one request's events to the log");
        ApplyLatency = meter.CreateHistogram<double>("impactgrains.grain.apply.duration", "ms", "Time an entity grain takes to apply one batch");
        Freshness = meter.CreateHistogram<double>("impactgrains.freshness", "ms", "Time from the commit until an entity grain holds the events (and its score shows them)");
    }

    public Counter<long> Accepted { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> Rejected { get; }

    public Histogram<double> CommitLatency { get; }

    public Histogram<double> ApplyLatency { get; }

    public Histogram<double> Freshness { get; }

    /// <summary>Observes a gauge; the callback is read at each collection.</summary>
    public void ObserveGauge(string name, string unit, string description, Func<long> read) =>
        meter.CreateObservableGauge(name, read, unit, description);

    public void Dispose() => meter.Dispose();
}
