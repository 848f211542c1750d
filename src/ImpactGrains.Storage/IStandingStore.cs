namespace ImpactGrains.Storage;

/// <summary>An entity's last leaderboard standing as stored (the grains' serialized StandingReport).</summary>
public readonly record struct StoredStanding(string Entity, int Partition, byte[] Data);

/// <summary>
/// Every entity's last standing, kept beside the grain snapshots and written by each entity grain with its snapshot:
/// what a leaderboard partition loads when it activates, so that it ranks idle entities (whose grains are long gone)
/// as well as active ones. Only entities that changed write, so a million idle entities cost nothing here.
/// </summary>
public interface IStandingStore
{
    Task SaveAsync(IReadOnlyList<StoredStanding> standings, CancellationToken cancellationToken = default);

    /// <summary>Every stored standing of one partition, read in pages.</summary>
    IAsyncEnumerable<StoredStanding> LoadPartitionAsync(int partition, CancellationToken cancellationToken = default);
}
