using Orleans.Concurrency;

namespace ImpactGrains.Abstractions;

/// <summary>
/// One of a fixed set of partitions (entity id hash mod N) that collect entity standings, so that no single grain
/// sits on the event path. At a steady cadence each publishes its top candidates to <see cref="ILeaderboardGrain"/>
/// and its changed scores to <see cref="ILiveFeedGrain"/>.
/// </summary>
public interface ILeaderboardPartitionGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// The latest standings of entities of this partition, gathered by a silo (StandingReports); one-way, so no silo
    /// ever waits on a partition.
    /// </summary>
    [OneWay]
    Task ReportManyAsync(StandingBatch reports);

    /// <summary>The scores of these entities of the partition at <paramref name="at"/> (0 for one that never reported), in order.</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<double>> ScoresAsync(IReadOnlyList<string> entities, DateTimeOffset at);
}
