using ImpactGrains.Storage.Postgres;
using Npgsql;

namespace ImpactGrains.Storage.Tests;

/// <summary>
/// The PostgreSQL log's duplicate probe reaches the id index whatever the commit's size: a commit of thousands of ids
/// against a log of a hundred thousand events or more is where `= ANY(...)` was planned as a sequential scan.
/// </summary>
public sealed class PostgresProbePlanTests(PostgresStorageFixture fixture) : IClassFixture<PostgresStorageFixture>
{
    [Fact]
    public async Task A_large_commit_probes_the_id_index_and_finds_exactly_the_logged_ids()
    {
        await using var database = new PostgresDatabase(await fixture.Server.CreateDatabaseAsync());
        await database.MigrateAsync();
        await using (var fill = database.DataSource.CreateCommand("""
            INSERT INTO event_log (entity, entity_seq, occurred_at, id_hash, event_id, body)
            SELECT 'e' || (g % 1000), g / 1000 + 1, g, md5('id-' || g)::uuid, 'id-' || g, '\x00'::bytea FROM generate_series(1, 200000) g;
            ANALYZE event_log;
            """))
        {
            await fill.ExecuteNonQueryAsync();
        }

        // 20,000 ids of which every hundredth is logged, hashed as the log hashes them (md5 of the id, as a uuid).
        await using var hashes = database.DataSource.CreateCommand("""
            SELECT array_agg(md5('id-' || CASE WHEN g % 100 = 0 THEN g ELSE g + 1000000 END)::uuid) FROM generate_series(1, 20000) g
            """);
        var probe = (Guid[])(await hashes.ExecuteScalarAsync())!;

        await using (var explain = database.DataSource.CreateCommand("EXPLAIN (FORMAT JSON) " + PostgresEventLog.LoggedHashesProbe))
        {
            explain.Parameters.Add(new NpgsqlParameter { Value = probe });
            var plan = (string)(await explain.ExecuteScalarAsync())!;
            Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
            Assert.Contains("ix_event_log_id", plan, StringComparison.Ordinal);
        }

        await using var run = database.DataSource.CreateCommand(PostgresEventLog.LoggedHashesProbe);
        run.Parameters.Add(new NpgsqlParameter { Value = probe });
        var found = new HashSet<Guid>();
        await using (var reader = await run.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                found.Add(reader.GetGuid(0));
            }
        }

        Assert.Equal(probe.Where((_, i) => (i + 1) % 100 == 0).ToHashSet(), found);
    }
}
