namespace ImpactGrains.Grains;

/// <summary>When entity grains write their snapshots: never per event, only after enough new ones or a quiet period.</summary>
public sealed class SnapshotOptions
{
    /// <summary>Write once this many events have been applied since the last snapshot.</summary>
    public int EveryEvents { get; set; } = 10_000;

    /// <summary>Otherwise write this long after the first unsaved event (and on deactivation).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many entity grains of one process may write their snapshots at once. SQLite takes one writer at a time;
    /// more made the others sleep in its busy handler on thread-pool threads, and when thousands of timers fell due
    /// together every request stalled for seconds (bench/, docs/performance.md). Waiting here costs no thread.
    /// </summary>
    public int MaxConcurrentWrites { get; set; } = 1;
}
