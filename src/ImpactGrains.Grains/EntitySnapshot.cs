using ImpactGrains.Scoring.Incidents;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Grains;

/// <summary>
/// An entity grain's persisted snapshot: the live part of its timeline up to a sequence, bounded by what still matters
/// (docs/scoring.md#state-model), not by how many events there ever were. The sealed past is in the timeline store,
/// in the chunk versions named here. The log stays the source of truth; the snapshot only spares a replay.
/// </summary>
[GenerateSerializer]
public sealed class EntitySnapshot
{
    /// <summary>Every own event with an entity sequence up to this one is in the timeline.</summary>
    [Id(0)] public long AppliedSequence { get; set; }

    /// <summary>The identity (version and parameter hash) of the model the impacts were scored under; a snapshot from another model is rebuilt.</summary>
    [Id(1)] public string ModelVersion { get; set; } = "";

    /// <summary>Snapshots written before the timeline (every event); read only to recognise them, and then replaced.</summary>
    [Id(2)] public List<ScoredEvent> Events { get; set; } = [];

    /// <summary>Spike detection per region, as of <see cref="AppliedSequence"/>.</summary>
    [Id(3)] public Dictionary<string, SpikeStateSnapshot> Spikes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The timeline's live part (Scoring's TimelineCodec); null before the first write of this format.</summary>
    [Id(4)] public byte[]? Timeline { get; set; }

    /// <summary>The timeline build whose chunks go with this snapshot (a rebuilt timeline starts a new one).</summary>
    [Id(5)] public string Generation { get; set; } = "";

    /// <summary>For each chunk of sealed intervals, the version written with this snapshot or before it.</summary>
    [Id(6)] public int[] ChunkVersions { get; set; } = [];

    /// <summary>How many snapshots of this generation were written: the version of the chunks the next one writes.</summary>
    [Id(7)] public int SaveNumber { get; set; }

    /// <summary>The entities linked into this one when the timeline was built, and how far each was taken.</summary>
    [Id(8)] public List<InheritedSnapshot> Sources { get; set; } = [];
}

[GenerateSerializer]
public sealed class InheritedSnapshot
{
    [Id(0)] public string From { get; set; } = "";

    [Id(1)] public double Weight { get; set; }

    [Id(2)] public long AppliedSequence { get; set; }
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
