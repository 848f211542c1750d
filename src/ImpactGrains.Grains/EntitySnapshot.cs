using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Grains;

/// <summary>
/// An entity grain's persisted snapshot: its scored events up to a sequence. The log stays the source of truth; the
/// snapshot only spares a replay of what it already holds.
/// </summary>
[GenerateSerializer]
public sealed class EntitySnapshot
{
    /// <summary>Every event with an entity sequence up to this one is in <see cref="Events"/>.</summary>
    [Id(0)] public long AppliedSequence { get; set; }

    /// <summary>The identity (version and parameter hash) of the model the impacts were scored under; a snapshot from another model is discarded.</summary>
    [Id(1)] public string ModelVersion { get; set; } = "";

    /// <summary>The events in sequence order.</summary>
    [Id(2)] public List<ScoredEvent> Events { get; set; } = [];
}
