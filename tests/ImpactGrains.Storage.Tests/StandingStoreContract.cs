using ImpactGrains.Storage.Postgres;
using ImpactGrains.Storage.Sqlite;

namespace ImpactGrains.Storage.Tests;

/// <summary>What every standing store must do, run against each provider: the last save of an entity wins, and a partition reads back all of its own, past the page size.</summary>
public abstract class StandingStoreContract
{
    protected abstract Task<OpenStore<IStandingStore>> CreateAsync();

    private static byte[] Data(int value) => BitConverter.GetBytes(value);

    [Fact]
    public async Task The_last_save_wins_and_each_partition_reads_back_every_standing_it_holds()
    {
        await using var open = await CreateAsync();
        var store = open.Store;

        // More than one page (10,000) in partition 1; a few in partition 2.
        var many = Enumerable.Range(0, 10_050).Select(i => new StoredStanding($"e-{i:00000}", 1, Data(i))).ToList();
        foreach (var chunk in many.Chunk(4000))
        {
            await store.SaveAsync(chunk);
        }

        await store.SaveAsync([new StoredStanding("other-a", 2, Data(-1)), new StoredStanding("other-b", 2, Data(-2))]);
        await store.SaveAsync([new StoredStanding("e-00007", 1, Data(7_000_007))]);
        await store.SaveAsync([]);

        // Read back by another store: what a partition activated on another silo would load.
        var one = new List<StoredStanding>();
        await foreach (var s in open.OpenAnother().LoadPartitionAsync(1))
        {
            one.Add(s);
        }

        Assert.Equal(10_050, one.Count);
        Assert.Equal(many.Select(s => s.Entity), one.Select(s => s.Entity));
        Assert.All(one, s => Assert.Equal(1, s.Partition));
        Assert.Equal(7_000_007, BitConverter.ToInt32(one.Single(s => s.Entity == "e-00007").Data));
        Assert.Equal(10_049, BitConverter.ToInt32(one[^1].Data));

        var two = new List<StoredStanding>();
        await foreach (var s in store.LoadPartitionAsync(2))
        {
            two.Add(s);
        }

        Assert.Equal([("other-a", -1), ("other-b", -2)], two.Select(s => (s.Entity, BitConverter.ToInt32(s.Data))));
        await foreach (var _ in store.LoadPartitionAsync(3))
        {
            Assert.Fail("partition 3 holds nothing");
        }
    }
}

public sealed class SqliteStandingStoreTests : StandingStoreContract
{
    protected override Task<OpenStore<IStandingStore>> CreateAsync() =>
        ProviderDatabases.SqliteAsync<IStandingStore>(database => new SqliteStandingStore(database));
}

public sealed class PostgresStandingStoreTests(PostgresStorageFixture fixture) : StandingStoreContract, IClassFixture<PostgresStorageFixture>
{
    protected override Task<OpenStore<IStandingStore>> CreateAsync() =>
        ProviderDatabases.PostgresAsync<IStandingStore>(fixture.Server, database => new PostgresStandingStore(database));
}
