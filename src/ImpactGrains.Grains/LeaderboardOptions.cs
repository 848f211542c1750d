namespace ImpactGrains.Grains;

public sealed class LeaderboardOptions
{
    /// <summary>How many partitions collect standings. Fixed for the life of a cluster: it decides where entities report.</summary>
    public int Partitions { get; set; } = 8;

    /// <summary>How often each silo sends its entities' changed standings to their partitions, in one call per partition.</summary>
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often a partition with changes publishes them (leaderboard freshness and stream latency).</summary>
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A partition republishes this often even without changes, since decay keeps reordering scores.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A silo keeps its copy of the published candidates (fetched every <see cref="PublishInterval"/>) only while its
    /// clients read the live leaderboard: after this long without such a read it drops the copy and stops fetching, and
    /// its next read is answered by the leaderboard grain while the copy is fetched again. An idle silo then sends
    /// nothing for the leaderboard, which at a tenth of a core was a large part of what it spent doing nothing.
    /// </summary>
    public TimeSpan CopyIdleAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many entities per board each partition publishes: the largest live leaderboard limit.</summary>
    public int Candidates { get; set; } = 100;

    /// <summary>
    /// How often a partition writes the standings that changed since its last write, in one transaction: what it
    /// reloads when it moves or the process restarts (IStandingStore). Also written when it deactivates.
    /// </summary>
    public TimeSpan SaveInterval { get; set; } = TimeSpan.FromSeconds(5);

    public int PartitionOf(string entity)
    {
        // A stable hash (string.GetHashCode is randomised per process, and every silo must agree).
        var hash = 2166136261u;
        foreach (var ch in entity)
        {
            hash = (hash ^ ch) * 16777619u;
        }

        return (int)(hash % (uint)Partitions);
    }
}
