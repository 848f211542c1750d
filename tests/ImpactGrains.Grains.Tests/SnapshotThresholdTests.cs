using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace ImpactGrains.Grains.Tests;

/// <summary>
/// An entity whose unsaved tail is short writes no snapshot, not even when its grain is collected: its next activation
/// replays that tail from the log instead. Its standing is stored by its leaderboard partition, in one write with the
/// others that changed, so a partition that moves still ranks it.
/// </summary>
public sealed class SnapshotThresholdTests : IAsyncLifetime
{
    private const int MinChanges = 10;
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ClusterFixture fixture = new(catalog => catalog, o => (o.MinChanges, o.EveryEvents) = (MinChanges, 1_000));

    public Task InitializeAsync() => fixture.InitializeAsync();

    public Task DisposeAsync() => fixture.DisposeAsync();

    private static List<ImpactEvent> Outages(string entity, int count, DateTimeOffset? from = null) =>
        Enumerable.Range(0, count).Select(i => new ImpactEvent(
            $"{entity}-{i}", entity, EventType.Outage, (from ?? Start) + TimeSpan.FromMinutes(i), "US", 1.0, null,
            new OutageData(1_000 + i, 500, null))).ToList();

    private long SnapshotsOf(string entity)
    {
        using var connection = new SqliteConnection(fixture.Database.SnapshotConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM grain_state WHERE state_name = $state AND grain_key LIKE '%' || $entity";
        command.Parameters.AddWithValue("$state", GrainStorageNames.EntitySnapshot);
        command.Parameters.AddWithValue("$entity", entity);
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task A_short_tail_is_replayed_from_the_log_instead_of_written_and_a_long_one_is_written()
    {
        await fixture.RegisterAsync("short-tail", "long-tail");
        await fixture.IngestAsync(Outages("short-tail", MinChanges - 1));
        await fixture.IngestAsync(Outages("long-tail", MinChanges));
        var at = Start + TimeSpan.FromDays(1);
        var shortGrain = fixture.Client.GetGrain<IEntityGrain>("short-tail");
        var longGrain = fixture.Client.GetGrain<IEntityGrain>("long-tail");
        var shortBefore = await shortGrain.GetImpactAsync(at);
        var longBefore = await longGrain.GetImpactAsync(at);

        await fixture.Cluster.DeactivateAsync(shortGrain);
        await fixture.Cluster.DeactivateAsync(longGrain);

        Assert.Equal(0, SnapshotsOf("short-tail"));
        Assert.Equal(1, SnapshotsOf("long-tail"));
        var shortAfter = await shortGrain.GetImpactAsync(at);
        Assert.Equal(shortBefore.Score, shortAfter.Score, 1e-9);
        Assert.Equal(shortBefore.Peak, shortAfter.Peak);
        Assert.Equal(MinChanges - 1, shortAfter.EventCount);
        Assert.Equal(longBefore.Score, (await longGrain.GetImpactAsync(at)).Score, 1e-9);
    }

    [Fact]
    public async Task A_partition_stores_the_standings_of_entities_that_never_wrote_a_snapshot()
    {
        await fixture.RegisterAsync("standing-only");
        // Recent: a standing is scored at the instant it was reported.
        await fixture.IngestAsync(Outages("standing-only", 2, DateTimeOffset.UtcNow.AddMinutes(-10)));
        var partition = new Storage.Sqlite.SqliteStandingStore(fixture.Database);
        var index = new LeaderboardOptions().PartitionOf("standing-only");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        StandingReport? stored = null;
        while (stored is null && DateTime.UtcNow < deadline)
        {
            await foreach (var row in partition.LoadPartitionAsync(index))
            {
                if (row.Entity == "standing-only")
                {
                    stored = fixture.Cluster.Client.ServiceProvider.GetRequiredService<Orleans.Serialization.Serializer>().Deserialize<StandingReport>(row.Data);
                }
            }

            await Task.Delay(200);
        }

        Assert.NotNull(stored);
        Assert.Equal(0, SnapshotsOf("standing-only"));

        // The partition moves (here: deactivates and activates again): it ranks the entity from the stored row,
        // without the entity's grain.
        await fixture.Cluster.DeactivateAsync(fixture.Client.GetEntityGrain("standing-only"));
        await fixture.Cluster.DeactivateAsync(fixture.Client.GetGrain<ILeaderboardPartitionGrain>(index));
        var scores = await fixture.Client.GetGrain<ILeaderboardPartitionGrain>(index).ScoresAsync(["standing-only"], DateTimeOffset.UtcNow);
        Assert.True(scores[0] > 0);
    }
}
