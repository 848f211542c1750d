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

/// <summary>How both providers page a partition's standings: rows of (entity, data), in entity order.</summary>
internal static class StandingRows
{
    public const int Page = 10_000;

    public static async Task<IReadOnlyList<StoredStanding>> ReadAsync(System.Data.Common.DbCommand command, int partition, CancellationToken cancellationToken)
    {
        var page = new List<StoredStanding>(Page);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            page.Add(new StoredStanding(reader.GetString(0), partition, reader.GetFieldValue<byte[]>(1)));
        }

        return page;
    }
}
