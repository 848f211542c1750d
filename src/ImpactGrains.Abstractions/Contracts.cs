using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Abstractions;

/// <summary>
/// Committed events for one entity, each carrying its entity sequence, and the outage report counts among them,
/// which feed spike detection.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed record EntityEventBatch(
    [property: Id(0)] IReadOnlyList<ScoredEvent> Events,
    [property: Id(1)] IReadOnlyList<OutageObservation>? Outages = null);

/// <summary>One outage event's report count, in its region.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed record OutageObservation(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string Region,
    [property: Id(2)] long OccurredAtTicks,
    [property: Id(3)] long Reports)
{
    public static OutageObservation? Of(ImpactGrains.Scoring.Events.ImpactEvent e, long sequence) =>
        e.Data is ImpactGrains.Scoring.Events.OutageData outage ? new(sequence, e.Region, e.OccurredAt.UtcTicks, outage.Reports) : null;
}

/// <summary>An entity's own events after a sequence, and the sequence it has applied up to.</summary>
/// <param name="Complete">
/// False when the entity no longer holds every event asked for in memory (it keeps only its recent ones): the caller
/// reads them from the log, up to <paramref name="AppliedSequence"/>.
/// </param>
[GenerateSerializer, Immutable]
public sealed record DirectEvents([property: Id(0)] long AppliedSequence, [property: Id(1)] IReadOnlyList<ScoredEvent> Events, [property: Id(2)] bool Complete = true);

[GenerateSerializer, Immutable]
public sealed record PeakReport([property: Id(0)] double Score, [property: Id(1)] DateTimeOffset? At);

/// <summary>An entity's impact at one instant; all scores lie in [0, 100].</summary>
[GenerateSerializer, Immutable]
public sealed record ImpactReport(
    [property: Id(0)] string Entity,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] double Score,
    [property: Id(3)] double Direct,
    [property: Id(4)] double Inherited,
    [property: Id(5)] IReadOnlyDictionary<string, double> Categories,
    [property: Id(6)] IReadOnlyDictionary<string, double> Regions,
    [property: Id(7)] PeakReport Peak,
    [property: Id(8)] double Trend24h,
    [property: Id(9)] int EventCount,
    [property: Id(10)] string ModelVersion)
{
    public static ImpactReport From(string entity, DateTimeOffset at, ImpactBreakdown b, string modelVersion) =>
        new(entity, at, b.Score, b.Direct, b.Inherited, b.Categories.ToDictionary(c => c.Key.WireName(), c => c.Value), b.Regions,
            new PeakReport(b.Peak.Score, b.Peak.At), b.Trend24h, b.EventCount, modelVersion);
}

/// <summary>
/// An entity's impact with its version stamp, or only the stamp when the caller's copy (of that version) is current
/// (HTTP's ETag and 304, issue #15).
/// </summary>
/// <param name="Version">
/// Changes whenever anything an answer depends on changes: an own or inherited event applied, a rebuilt timeline (a
/// link or the model changed). Unique across activations (it starts from the activation's clock).
/// </param>
[GenerateSerializer, Immutable]
public sealed record VersionedImpact([property: Id(0)] long Version, [property: Id(1)] ImpactReport? Report);

/// <summary>An entity's explanation with its version stamp, or only the stamp (<see cref="VersionedImpact"/>).</summary>
[GenerateSerializer, Immutable]
public sealed record VersionedExplain([property: Id(0)] long Version, [property: Id(1)] ExplainReport? Report);

[GenerateSerializer, Immutable]
public sealed record ContributionReport(
    [property: Id(0)] string EventId,
    [property: Id(1)] string Entity,
    [property: Id(2)] string Type,
    [property: Id(3)] DateTimeOffset OccurredAt,
    [property: Id(4)] string Category,
    [property: Id(5)] double Contribution,
    [property: Id(6)] double Share)
{
    public static ContributionReport From(EventContribution c) =>
        new(c.EventId, c.Entity, c.Type.WireName(), c.OccurredAt, c.Category.WireName(), c.Contribution, c.Share);
}

[GenerateSerializer, Immutable]
public sealed record ExplainReport(
    [property: Id(0)] string Entity,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] IReadOnlyList<ContributionReport> Contributions);

[GenerateSerializer, Immutable]
public sealed record HistoryPoint([property: Id(0)] DateTimeOffset At, [property: Id(1)] double Score);

[GenerateSerializer, Immutable]
public sealed record HistoryReport([property: Id(0)] string Entity, [property: Id(1)] IReadOnlyList<HistoryPoint> Points);
