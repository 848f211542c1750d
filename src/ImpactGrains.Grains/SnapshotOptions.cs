namespace ImpactGrains.Grains;

/// <summary>When entity grains write their snapshots: never per event, only after enough new ones or a quiet period.</summary>
public sealed class SnapshotOptions
{
    /// <summary>Write once this many events have been applied since the last snapshot.</summary>
    public int EveryEvents { get; set; } = 10_000;

    /// <summary>Otherwise write this long after the first unsaved event (and on deactivation).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Fewer contributions (own and inherited) than this since the last snapshot are not worth one: an activation reads
    /// the log after the snapshot anyway, and replaying a few more events there costs less than a write (three commits
    /// in a store that takes one writer at a time). Without this, 100,000 entities of one event each wrote 100,000
    /// snapshots as their grains were collected, a backlog that outlived Orleans' deactivation timeout
    /// (docs/performance.md, memory per idle entity). A rebuilt timeline or a chunk left unwritten is always saved.
    /// </summary>
    public int MinChanges { get; set; } = 128;

    /// <summary>
    /// How many entity grains of one process may write their snapshots at once. SQLite takes one writer at a time;
    /// more made the others sleep in its busy handler on thread-pool threads, and when thousands of timers fell due
    /// together every request stalled for seconds (bench/, docs/performance.md). Waiting here costs no thread.
    /// </summary>
    public int MaxConcurrentWrites { get; set; } = 1;

    /// <summary>
    /// How many entity grains of one process may read storage for their activation at once (the snapshot, then the
    /// log after it and the catalog). Without a bound, 10,000 activations at once each opened a connection: every
    /// silo's pool ran dry, PostgreSQL refused clients beyond max_connections, and activations failed after the pool's
    /// wait (bench/scale-out.sh, docs/performance.md). The rest wait here, in memory, without a time limit of their own.
    /// </summary>
    public int MaxConcurrentLoads { get; set; } = 16;
}
