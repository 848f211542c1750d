using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Storage.Postgres;
using ImpactGrains.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace ImpactGrains.Storage.Tests;

/// <summary>The embedded provider: SQLite files in a temporary directory.</summary>
public sealed class SqliteEventLogTests : EventLogContract
{
    private static async Task<EventLogContract.Store> OpenAsync(string directory, SqliteDatabase database, IReadOnlyList<string> entities, CommitFeed? feed)
    {
        var catalog = new SqliteEntityCatalog(database);
        foreach (var id in entities)
        {
            await catalog.UpsertEntityAsync(id, id, EntityKind.Company, []);
        }

        var log = new SqliteEventLog(database, feed);
        return new Store(log, () =>
        {
            log.Dispose();
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
            return ValueTask.CompletedTask;
        });
    }

    private static (string Directory, SqliteDatabase Database) NewDatabase()
    {
        var directory = Directory.CreateTempSubdirectory("impactgrains-storage-").FullName;
        return (directory, new SqliteDatabase(directory));
    }

    protected override Task<Store> CreateAsync(IReadOnlyList<string> entities, CommitFeed? feed = null)
    {
        var (directory, database) = NewDatabase();
        database.Migrate();
        return OpenAsync(directory, database, entities, feed);
    }

    protected override async Task<Store> CreateFromVersion1Async(IReadOnlyList<string> entities, IReadOnlyList<ImpactEvent> events)
    {
        var (directory, database) = NewDatabase();
        database.Migrate(through: "0006-no-entity-heads.sql");
        await using (var connection = new SqliteConnection(database.LogConnectionString))
        {
            await connection.OpenAsync();
            foreach (var (e, sequence) in Version1.Numbered(events))
            {
                await using var insert = connection.CreateCommand();
                insert.CommandText = """
                    INSERT INTO events (event_id, entity, entity_seq, type, occurred_at, recorded_at, body)
                    VALUES ($id, $entity, $seq, $type, $at, $at, $body)
                    """;
                insert.Parameters.AddWithValue("$id", e.Id);
                insert.Parameters.AddWithValue("$entity", e.Entity);
                insert.Parameters.AddWithValue("$seq", sequence);
                insert.Parameters.AddWithValue("$type", e.Type.WireName());
                insert.Parameters.AddWithValue("$at", e.OccurredAt.UtcTicks);
                insert.Parameters.AddWithValue("$body", EventJson.Serialize(e));
                await insert.ExecuteNonQueryAsync();
            }
        }

        SqliteConnection.ClearAllPools();
        database.Migrate();
        return await OpenAsync(directory, database, entities, feed: null);
    }
}

/// <summary>The embedded log's WAL under a steady load: it must start over rather than grow without end.</summary>
public sealed class SqliteWalTests
{
    [Fact]
    public async Task Under_continuous_appends_the_WAL_is_restarted_and_truncated_past_its_limit()
    {
        var directory = Directory.CreateTempSubdirectory("impactgrains-wal-").FullName;
        try
        {
            var database = new SqliteDatabase(directory);
            database.Migrate();
            await new SqliteEntityCatalog(database).UpsertEntityAsync("x", "x", EntityKind.Company, []);
            const long limit = 256 << 10;
            var wal = new FileInfo(Path.Combine(directory, "impact.db-wal"));
            // Kept at the limit, so that a restart shows as a shrinking file.
            using (var log = new SqliteEventLog(database, feed: null, walLimitBytes: limit, walKeptBytes: limit))
            {
                // Eight appenders keep the writer busy without a pause, as under load; before the fix the file only
                // ever grew then (a checkpoint beside the writer always leaves the frames committed meanwhile, so the
                // WAL never starts over). A shrinking file is a restart truncated to the limit.
                long largest = 0, smallestAfterLargest = long.MaxValue, appended = 0;
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                var appenders = Enumerable.Range(0, 8).Select(a => Task.Run(async () =>
                {
                    for (var n = 0; !stop.IsCancellationRequested; n++)
                    {
                        var batch = Enumerable.Range(0, 200).Select(i => new ImpactEvent(
                            $"wal-{a}-{n}-{i}", "x", EventType.Outage, DateTimeOffset.UnixEpoch.AddSeconds(n * 200 + i), "US", 1, null,
                            new OutageData(1000, 500, null))).ToList();
                        await log.AppendAsync(batch);
                        Interlocked.Add(ref appended, batch.Count);
                    }
                })).ToList();
                while (!stop.IsCancellationRequested && !(largest > limit && smallestAfterLargest < largest))
                {
                    await Task.Delay(5);
                    wal.Refresh();
                    if (wal.Exists && wal.Length >= largest)
                    {
                        largest = wal.Length;
                        smallestAfterLargest = long.MaxValue;
                    }
                    else if (wal.Exists)
                    {
                        smallestAfterLargest = Math.Min(smallestAfterLargest, wal.Length);
                    }
                }

                await stop.CancelAsync();
                await Task.WhenAll(appenders);
                Assert.True(largest > limit, $"the WAL never passed its limit ({largest} bytes after {appended} events)");
                Assert.True(smallestAfterLargest < largest,
                    $"the WAL grew to {largest} bytes and was never truncated under {appended} continuous appends");
                Assert.Equal(appended, (await log.ReadEntityAsync("x", 0, long.MaxValue)).Count);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}

/// <summary>One throwaway PostgreSQL server for the storage tests; each test takes a fresh database.</summary>
public sealed class PostgresStorageFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>The production provider: a real PostgreSQL 15.</summary>
public sealed class PostgresEventLogContractTests(PostgresStorageFixture fixture) : EventLogContract, IClassFixture<PostgresStorageFixture>
{
    private static async Task<Store> OpenAsync(PostgresDatabase database, IReadOnlyList<string> entities, CommitFeed? feed)
    {
        var catalog = new PostgresEntityCatalog(database);
        foreach (var id in entities)
        {
            await catalog.UpsertEntityAsync(id, id, EntityKind.Company, []);
        }

        var log = new PostgresEventLog(database, feed);
        return new Store(log, async () =>
        {
            await log.DisposeAsync();
            await database.DisposeAsync();
        });
    }

    protected override async Task<Store> CreateAsync(IReadOnlyList<string> entities, CommitFeed? feed = null)
    {
        var database = new PostgresDatabase(await fixture.Server.CreateDatabaseAsync());
        await database.MigrateAsync();
        return await OpenAsync(database, entities, feed);
    }

    protected override async Task<Store> CreateFromVersion1Async(IReadOnlyList<string> entities, IReadOnlyList<ImpactEvent> events)
    {
        var database = new PostgresDatabase(await fixture.Server.CreateDatabaseAsync());
        await database.MigrateAsync(through: "0005-groups.sql");
        var catalog = new PostgresEntityCatalog(database);
        foreach (var id in entities)
        {
            await catalog.UpsertEntityAsync(id, id, EntityKind.Company, []);
        }

        foreach (var (e, sequence) in Version1.Numbered(events))
        {
            await using var insert = database.DataSource.CreateCommand(
                "INSERT INTO events (event_id, entity, entity_seq, type, occurred_at, body) VALUES ($1, $2, $3, $4, $5, $6)");
            insert.Parameters.AddWithValue(e.Id);
            insert.Parameters.AddWithValue(e.Entity);
            insert.Parameters.AddWithValue(sequence);
            insert.Parameters.AddWithValue(e.Type.WireName());
            insert.Parameters.AddWithValue(e.OccurredAt.UtcTicks);
            insert.Parameters.AddWithValue(EventJson.Serialize(e));
            await insert.ExecuteNonQueryAsync();
            await using var head = database.DataSource.CreateCommand("UPDATE entities SET head = $2 WHERE id = $1");
            head.Parameters.AddWithValue(e.Entity);
            head.Parameters.AddWithValue(sequence);
            await head.ExecuteNonQueryAsync();
        }

        await database.MigrateAsync();
        return await OpenAsync(database, entities, feed: null);
    }

    [Fact]
    public async Task A_database_that_is_down_fails_the_append_with_nothing_stored()
    {
        await using var database = new PostgresDatabase("Host=127.0.0.1;Port=1;Database=none;Username=postgres;Timeout=2");
        await using var log = new PostgresEventLog(database);
        await Assert.ThrowsAsync<EventLogUnavailableException>(() => log.AppendAsync([Outage("x", "a", 1)]));
    }
}

/// <summary>How version 1 of the log numbered events: per entity, in the order given.</summary>
internal static class Version1
{
    public static IEnumerable<(ImpactEvent Event, long Sequence)> Numbered(IReadOnlyList<ImpactEvent> events)
    {
        var heads = new Dictionary<string, long>();
        foreach (var e in events)
        {
            heads[e.Entity] = heads.GetValueOrDefault(e.Entity) + 1;
            yield return (e, heads[e.Entity]);
        }
    }
}
