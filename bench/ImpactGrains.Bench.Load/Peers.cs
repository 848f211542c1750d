using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ImpactGrains.Bench;

/// <summary>The peers measured beside our server in the same run.</summary>
public static class Peers
{
    /// <summary>
    /// The plain PostgreSQL design a user might write instead: one transaction per event that inserts the event and
    /// upserts the entity's aggregate row, from <paramref name="connections"/> concurrent connections, with the same
    /// events and the same database server (fsync on, synchronous commit) as our PostgreSQL profile. Both statements
    /// go in one round trip (a batch), prepared, so the peer is not handicapped by chattiness.
    /// </summary>
    public static async Task<Throughput> NaivePostgresAsync(string connectionString, string runId, int entities, int connections, double seconds)
    {
        await using (var setup = new NpgsqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await using var create = new NpgsqlCommand("""
                CREATE TABLE IF NOT EXISTS events (id text PRIMARY KEY, entity text NOT NULL, type text NOT NULL,
                  occurred_at timestamptz NOT NULL, region text NOT NULL, data jsonb NOT NULL);
                CREATE INDEX IF NOT EXISTS events_entity ON events (entity, occurred_at);
                CREATE TABLE IF NOT EXISTS entity_scores (entity text PRIMARY KEY, event_count bigint NOT NULL,
                  impact double precision NOT NULL, updated_at timestamptz NOT NULL);
                """, setup);
            await create.ExecuteNonQueryAsync();
        }

        var latency = new Latencies();
        long committed = 0;
        var started = Stopwatch.GetTimestamp();
        var until = started + (long)(seconds * Stopwatch.Frequency);
        var seed = 1_000;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            var events = new BenchEvents(runId, entities, skewed: false, Interlocked.Increment(ref seed));
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            while (Stopwatch.GetTimestamp() < until)
            {
                var e = events.Next(DateTimeOffset.UtcNow);
                var sent = Stopwatch.GetTimestamp();
                await using var transaction = await connection.BeginTransactionAsync();
                await using var batch = new NpgsqlBatch(connection, transaction)
                {
                    BatchCommands =
                    {
                        new NpgsqlBatchCommand("INSERT INTO events (id, entity, type, occurred_at, region, data) VALUES ($1, $2, $3, $4, $5, $6::jsonb)")
                        {
                            Parameters = { new() { Value = e.Id }, new() { Value = e.Entity }, new() { Value = e.Type }, new() { Value = e.OccurredAt.UtcDateTime }, new() { Value = e.Region }, new() { Value = e.DataJson } },
                        },
                        new NpgsqlBatchCommand("""
                            INSERT INTO entity_scores (entity, event_count, impact, updated_at) VALUES ($1, 1, $2, $3)
                            ON CONFLICT (entity) DO UPDATE SET event_count = entity_scores.event_count + 1,
                              impact = entity_scores.impact + excluded.impact, updated_at = greatest(entity_scores.updated_at, excluded.updated_at)
                            """)
                        {
                            Parameters = { new() { Value = e.Entity }, new() { Value = e.Severity * 0.9 }, new() { Value = e.OccurredAt.UtcDateTime } },
                        },
                    },
                };
                await batch.PrepareAsync();
                await batch.ExecuteNonQueryAsync();
                await transaction.CommitAsync();
                latency.AddSince(sent);
                Interlocked.Increment(ref committed);
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new Throughput(committed / elapsed, latency, committed, elapsed);
    }

    /// <summary>
    /// The ceiling: bare Orleans grain calls (an empty method) on this host, from an in-process client, 100 grains and
    /// <paramref name="concurrency"/> concurrent callers, the pattern of bench/ImpactGrains.Bench.Dashboard.
    /// </summary>
    public static async Task<Throughput> BareGrainCallsAsync(int concurrency, double seconds)
    {
        var siloPort = Testing.PostgresServer.FreePort();
        var gatewayPort = Testing.PostgresServer.FreePort();
        using var host = new HostBuilder()
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "bench", clusterId: $"bench-{siloPort}"))
            .Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var refs = Enumerable.Range(0, 100).Select(i => grains.GetGrain<IEmptyGrain>(i)).ToArray();
        await RunAsync(Math.Min(1, seconds)); // warm up: activations, JIT
        var result = await RunAsync(seconds);
        await host.StopAsync();
        return result;

        async Task<Throughput> RunAsync(double duration)
        {
            var latency = new Latencies();
            var started = Stopwatch.GetTimestamp();
            var until = started + (long)(duration * Stopwatch.Frequency);
            var counts = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
            {
                long n = 0;
                var i = w;
                while (Stopwatch.GetTimestamp() < until)
                {
                    await refs[i++ % refs.Length].CallAsync();
                    n++;
                }

                return n;
            })));
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return new Throughput(counts.Sum() / elapsed, latency, counts.Sum(), elapsed);
        }
    }
}

public interface IEmptyGrain : IGrainWithIntegerKey
{
    Task CallAsync();
}

public sealed class EmptyGrain : Grain, IEmptyGrain
{
    public Task CallAsync() => Task.CompletedTask;
}
