using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Postgres;
using Npgsql;

namespace ImpactGrains.Postgres.Tests;

/// <summary>
/// What only PostgreSQL has: migrations run by many processes at once, and appenders in different processes. The
/// contract every log meets is in tests/ImpactGrains.Storage.Tests.
/// </summary>
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
}
