using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Scoring.Incidents;

/// <summary>
/// One entity's outage spike detection: a <see cref="SpikeDetector"/> per region, fed the report counts of its outage
/// events in the order they were applied. The counts wait here until a batch is in, so that a spike's incident is
/// logged once per batch, not once per event. A detection or resolution becomes an incident event whose id is fixed by
/// the spike, so that a replay which detects it again never logs it twice.
/// </summary>
public sealed class OutageSpikeWatch(string entity, SpikeDetectorOptions options)
{
    private readonly Dictionary<string, SpikeDetector> detectors = new(StringComparer.Ordinal);
    private readonly List<PendingReport> pending = [];

    /// <summary>The detector of each region that has had an outage, as a snapshot keeps them.</summary>
    public IReadOnlyDictionary<string, SpikeDetector> Detectors => detectors;

    public bool HasPending => pending.Count > 0;

    /// <summary>Takes back a region's detector from a snapshot.</summary>
    public void Restore(string region, SpikeDetectorState state) => detectors[region] = new SpikeDetector(options, state);

    /// <summary>An applied outage event's report count, to be fed to its region's detector with the rest of the batch.</summary>
    public void Add(string region, long occurredAtTicks, long reports) => pending.Add(new PendingReport(region, occurredAtTicks, reports));

    /// <summary>Forgets the counts waiting: a timeline rebuilt from the log has them, and the detectors saw them already.</summary>
    public void ClearPending() => pending.Clear();

    /// <summary>Feeds the waiting counts to their detectors; the incident events of the spikes detected or resolved, or null when none.</summary>
    public List<ImpactEvent>? DetectPending()
    {
        List<ImpactEvent>? incidents = null;
        foreach (var report in pending)
        {
            if (!detectors.TryGetValue(report.Region, out var detector))
            {
                detectors[report.Region] = detector = new SpikeDetector(options);
            }

            if (detector.Observe(new DateTimeOffset(report.OccurredAtTicks, TimeSpan.Zero), report.Reports) is { } signal)
            {
                (incidents ??= []).Add(IncidentEvent(report.Region, signal));
            }
        }

        pending.Clear();
        return incidents;
    }

    private ImpactEvent IncidentEvent(string region, SpikeSignal signal)
    {
        var status = signal.Transition == SpikeTransition.Detected ? IncidentStatus.Detected : IncidentStatus.Resolved;
        return new ImpactEvent(IncidentId(entity, region, signal.StartedAt, status), entity, EventType.Incident, signal.At, region, 1.0, "spike-detector",
            new IncidentData(status, signal.Reports, signal.BaselineMean, signal.BaselineStdDev, signal.ZScore, signal.StartedAt, signal.PeakReports));
    }

    /// <summary>
    /// An incident event's id: the entity, the region and when the spike started name the spike, and the status which
    /// of its two events it is. The log's idempotency on ids is what keeps a replayed detection from being logged twice.
    /// </summary>
    public static string IncidentId(string entity, string region, DateTimeOffset startedAt, IncidentStatus status) =>
        $"incident-{entity}-{region}-{startedAt.UtcTicks}-{(status == IncidentStatus.Detected ? "detected" : "resolved")}";

    private readonly record struct PendingReport(string Region, long OccurredAtTicks, long Reports);
}
