using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Postgres;
using Npgsql;

namespace ImpactGrains.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresEventLogTests(PostgresFixture fixture)
{
    private static ImpactEvent Outage(string id, string entity, int reports) =>
        new(id, entity, EventType.Outage, new DateTimeOffset(2025, 3, 10, 14, 0, 0, TimeSpan.Zero).AddMinutes(reports % 600), "US", 1, null,
            new OutageData(reports, 500, null));

    private async Task<PostgresDatabase> MigratedAsync()
    {
        var database = new PostgresDatabase(await fixture.Server.CreateDatabaseAsync());
        await database.MigrateAsync();
        return database;
    }

    [Fact]
    public async Task Migrations_apply_once_even_when_many_processes_start_at_once()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        var databases = Enumerable.Range(0, 6).Select(_ => new PostgresDatabase(connectionString)).ToList();
        var applied = await Task.WhenAll(databases.Select(d => d.MigrateAsync()));

        // Every numbered script embedded in the storage assembly, each applied by exactly one of the six.
        const string prefix = "ImpactGrains.Storage.Sql.Postgres.";
        var scripts = typeof(PostgresDatabase).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && char.IsDigit(n[prefix.Length]))
            .Select(n => n[prefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Contains("0001-orleans.sql", scripts);
        Assert.Contains("0002-event-log.sql", scripts);
        Assert.Contains("0003-alerts.sql", scripts);
        Assert.Contains("0004-models.sql", scripts);
        Assert.Equal(scripts, applied.SelectMany(a => a).Order(StringComparer.Ordinal));
        Assert.Empty(await databases[0].MigrateAsync());
        await using var count = databases[0].DataSource.CreateCommand("SELECT count(*) FROM OrleansQuery");
        Assert.Equal(19L, await count.ExecuteScalarAsync()); // 9 membership, 7 reminder and 3 grain-state queries
        foreach (var database in databases)
        {
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task Appends_are_idempotent_numbered_per_entity_and_read_back()
    {
        await using var database = await MigratedAsync();
        var catalog = new PostgresEntityCatalog(database);
        await catalog.UpsertEntityAsync("a", "A", EntityKind.Company, []);
        await catalog.UpsertEntityAsync("b", "B", EntityKind.Person, ["x"]);
        await using var log = new PostgresEventLog(database);

        var first = await log.AppendAsync([Outage("1", "a", 10), Outage("2", "b", 20), Outage("3", "a", 30), Outage("1", "a", 10)]);
        Assert.Equal([(false, 1L), (false, 1L), (false, 2L), (true, 0L)], first.Outcomes.Select(o => (o.Duplicate, o.EntitySequence)));
        Assert.NotEqual(0, first.DeliveryId);

        var second = await log.AppendAsync([Outage("3", "a", 30), Outage("4", "a", 40)]);
        Assert.Equal([(true, 0L), (false, 3L)], second.Outcomes.Select(o => (o.Duplicate, o.EntitySequence)));

        var a = await log.ReadEntityAsync("a", 0);
        Assert.Equal(["1", "3", "4"], a.Select(e => e.Event.Id));
        Assert.Equal(Outage("4", "a", 40), a[2].Event);
        Assert.Equal(["3"], (await log.ReadEntityAsync("a", 1, 2)).Select(e => e.Event.Id));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 3, ["b"] = 1 }, await log.HeadsAsync());
        Assert.Equal(["4", "3"], (await log.ListEntityEventsAsync("a", null, 2)).Select(e => e.Event.Id));
    }

    [Fact]
    public async Task Concurrent_appenders_in_different_processes_never_leave_a_gap_or_a_double()
    {
        await using var database = await MigratedAsync();
        var catalog = new PostgresEntityCatalog(database);
        var entities = Enumerable.Range(0, 5).Select(i => $"e{i}").ToArray();
        foreach (var id in entities)
        {
            await catalog.UpsertEntityAsync(id, id, EntityKind.Company, []);
        }

        // Three logs stand for three silos; they share ids on purpose so that duplicates race too.
        var logs = Enumerable.Range(0, 3).Select(_ => new PostgresEventLog(new PostgresDatabase(database.ConnectionString))).ToList();
        var appends = new List<Task<AppendResult>>();
        for (var batch = 0; batch < 60; batch++)
        {
            var events = Enumerable.Range(0, 25).Select(i => Outage($"ev-{(batch * 25 + i) % 1200}", entities[(batch + i) % 5], i)).ToList();
            appends.Add(logs[batch % 3].AppendAsync(events));
        }

        var results = await Task.WhenAll(appends);
        var accepted = results.Sum(r => r.Outcomes.Count(o => !o.Duplicate));
        Assert.Equal(1200, accepted);

        var total = 0;
        foreach (var id in entities)
        {
            var events = await logs[0].ReadEntityAsync(id, 0);
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.EntitySequence));
            total += events.Count;
        }

        Assert.Equal(1200, total);
        foreach (var log in logs)
        {
            await log.DisposeAsync();
        }
    }

    [Fact]
    public async Task Unconfirmed_deliveries_are_claimed_once_until_their_claim_expires()
    {
        await using var database = await MigratedAsync();
        await new PostgresEntityCatalog(database).UpsertEntityAsync("a", "A", EntityKind.Company, []);
        await using var log = new PostgresEventLog(database);
        var delivered = await log.AppendAsync([Outage("d1", "a", 1)]);
        var abandoned = await log.AppendAsync([Outage("d2", "a", 2), Outage("d3", "a", 3)]);
        await log.CompleteDeliveryAsync(delivered.DeliveryId);

        Assert.Empty(await log.ClaimStaleDeliveriesAsync(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), 10));
        var claimed = Assert.Single(await log.ClaimStaleDeliveriesAsync(TimeSpan.Zero, TimeSpan.FromSeconds(30), 10));
        Assert.Equal(abandoned.DeliveryId, claimed.Id);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 3 }, claimed.Through);
        Assert.Empty(await log.ClaimStaleDeliveriesAsync(TimeSpan.Zero, TimeSpan.FromSeconds(30), 10)); // claimed by someone else

        await log.CompleteDeliveryAsync(claimed.Id);
        await using var left = database.DataSource.CreateCommand("SELECT count(*) FROM pending_deliveries");
        Assert.Equal(0L, await left.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_database_that_is_down_fails_the_append_with_nothing_stored()
    {
        await using var database = new PostgresDatabase("Host=127.0.0.1;Port=1;Database=none;Username=postgres;Timeout=2");
        await using var log = new PostgresEventLog(database);
        await Assert.ThrowsAsync<EventLogUnavailableException>(() => log.AppendAsync([Outage("x", "a", 1)]));
    }
}
