using ImpactGrains.Scoring.Incidents;
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

    /// <summary>Spike detection per region, as of <see cref="AppliedSequence"/>.</summary>
    [Id(3)] public Dictionary<string, SpikeStateSnapshot> Spikes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A <see cref="SpikeDetectorState"/> as Orleans stores it.</summary>
[GenerateSerializer]
public sealed class SpikeStateSnapshot
{
    [Id(0)] public int Observations { get; set; }
    [Id(1)] public double Mean { get; set; }
    [Id(2)] public double Variance { get; set; }
    [Id(3)] public int AbnormalInARow { get; set; }
    [Id(4)] public DateTimeOffset? IncidentStartedAt { get; set; }
    [Id(5)] public long IncidentPeakReports { get; set; }
    [Id(6)] public DateTimeOffset? LastAbnormalAt { get; set; }
    [Id(7)] public DateTimeOffset? LastResolvedAt { get; set; }

    public static SpikeStateSnapshot From(SpikeDetectorState s) => new()
    {
        Observations = s.Observations, Mean = s.Mean, Variance = s.Variance, AbnormalInARow = s.AbnormalInARow,
        IncidentStartedAt = s.IncidentStartedAt, IncidentPeakReports = s.IncidentPeakReports,
        LastAbnormalAt = s.LastAbnormalAt, LastResolvedAt = s.LastResolvedAt,
    };

    public SpikeDetectorState ToState() =>
        new(Observations, Mean, Variance, AbnormalInARow, IncidentStartedAt, IncidentPeakReports, LastAbnormalAt, LastResolvedAt);
}
