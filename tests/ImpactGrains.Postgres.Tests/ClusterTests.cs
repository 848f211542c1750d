using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using Xunit.Abstractions;

namespace ImpactGrains.Postgres.Tests;

/// <summary>
/// Real server processes forming one cluster on one PostgreSQL database, fed steadily through every HTTP endpoint while
/// a silo is killed, the database restarts, or every silo is restarted in turn. After each fault, every acknowledged
/// event must be counted exactly once and the <c>verify</c> command must agree with a full replay of the log.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const int EntityCount = 30;
    private const int EventsPerBatch = 20;
    private const int MaxBatchesPerWriter = 300; // with 30 entities, fewer than 1,000 events each: one page of /events
    private const int SiloStatusDead = 6; // Orleans' SiloStatus.Dead in orleans_membership.status
    private const string At = "2026-01-01T00:00:00Z"; // after every event the writers send
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(40);
    private static readonly TimeSpan MaxAcknowledgementGap = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Killing_a_silo_mid_stream_loses_nothing_and_its_entities_come_back_on_the_survivors()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        await using var cluster = await Cluster.StartAsync(connectionString, 3);
        await using var database = NpgsqlDataSource.Create(connectionString);
        await WithDiagnosticsAsync(cluster, async stop =>
        {
            var servers = cluster.Servers;
            var entities = await RegisterAsync(servers[0]);
            await ActivateAsync(servers, entities);

            // One writer per server, each bound to its server.
            var writers = servers.Select((_, i) => new Writer($"kill{i}", i, servers, entities, _ => i)).ToList();
            var running = writers.Select(w => w.RunAsync(stop.Token)).ToList();
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.All(writers, w => Assert.True(w.AcknowledgedCount > 0, $"{w.Name} had no acknowledgement before the kill"));

            // kill -9 a silo that did not migrate; its writer stops at its first failure.
            const int victim = 1;
            var survivors = new[] { 0, 2 };
            writers[victim].StopOnFailure = true;
            var clock = Stopwatch.StartNew();
            servers[victim].Kill();
            var killedAt = DateTime.UtcNow;
            var markedDead = WaitForSiloStatusAsync(database, servers[victim].SiloPort, SiloStatusDead, clock, TimeSpan.FromSeconds(40));
            var probes = entities.Select(e => ProbeAsync(servers[survivors[0]], e, clock, TimeSpan.FromSeconds(40))).ToList();

            await Task.Delay(TimeSpan.FromSeconds(8));
            await stop.CancelAsync();
            await Task.WhenAll(running);
            var stoppedAt = DateTime.UtcNow;

            var deadAfter = await markedDead;
            var probed = await Task.WhenAll(probes);
            output.WriteLine($"membership: the killed silo (port {servers[victim].SiloPort}) had status {SiloStatusDead} (Dead) {Seconds(deadAfter)} after kill -9");
            Assert.True(deadAfter is not null, "the killed silo was not marked dead in orleans_membership within 40 s");

            // (d) every entity answers on the survivors; those that did not answer at once lived on the dead silo.
            var moved = probed.Where(p => !p.AnsweredAtOnce).ToList();
            output.WriteLine($"{moved.Count} of {EntityCount} entities did not answer at once after the kill (they lived on the dead silo): " +
                string.Join(", ", moved.Select(p => $"{p.Entity} ({p.Failures.Count} failures, 200 after {Seconds(p.AnsweredAfter)})")));
            var failed = moved.SelectMany(p => p.Failures).ToList();
            if (failed.Count > 0)
            {
                output.WriteLine($"  while the dead silo's entities moved, {failed.Count} answers were: {failed[0]}");
            }

            // Until the grains have moved, a survivor says so: 503 with Retry-After, never a 500.
            Assert.All(failed, f => Assert.Matches(@"^503 Retry-After: \d+ \(application/problem\+json\)", f));

            Assert.All(probed, p => Assert.True(p.AnsweredAfter is not null, $"{p.Entity} did not answer 200 on a survivor within 40 s of the kill"));
            // Which silo held which entity is not visible from outside; when every probe answered within a second, the
            // dead silo's grains were placed again before a probe noticed (they were activated through every silo), and
            // the checks below still cover them.
            output.WriteLine(moved.Count == 0
                ? "every entity answered on a survivor within a second of its first probe"
                : $"the first request to a dead silo's entity succeeded {Seconds(moved.Min(p => p.AnsweredAfter))} after the kill, " +
                  $"the last {Seconds(moved.Max(p => p.AnsweredAfter))} after");

            foreach (var entity in entities)
            {
                foreach (var s in survivors)
                {
                    using var response = await servers[s].Http.GetAsync($"/api/entities/{entity}/impact?at={At}");
                    Assert.True(response.StatusCode == HttpStatusCode.OK, $"{entity} on server {s}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }

            // (a) the survivors kept acknowledging throughout; the victim's writer stopped at its first failure.
            foreach (var s in survivors)
            {
                var writer = writers[s];
                var gap = writer.LongestGap(stoppedAt);
                var first = writer.FirstAcknowledgementAfter(killedAt);
                output.WriteLine($"{writer.Name}: {writer.AcknowledgedCount} batches acknowledged, longest gap {gap.TotalSeconds:0.000} s, " +
                    $"first acknowledgement {Seconds(first)} after the kill, {writer.Failures.Count} failures");
                Assert.True(writer.Failures.Count == 0, $"{writer.Name} failed: {string.Join("; ", writer.Failures.Take(5))}");
                Assert.True(gap < MaxAcknowledgementGap, $"{writer.Name} went {gap.TotalSeconds:0.0} s without an acknowledgement");
                Assert.True(first is not null, $"{writer.Name} had no acknowledgement after the kill");
            }

            output.WriteLine($"{writers[victim].Name}: {writers[victim].AcknowledgedCount} batches acknowledged before the kill, then: " +
                string.Join("; ", writers[victim].Failures.Take(3)));

            // (b) and (c): exactly once, and the live scores equal a replay of the log. The batch the victim's writer
            // had in flight is sent again to a survivor; if the victim had committed it, it now counts as duplicates.
            await SendUnacknowledgedAsync(writers, servers, survivors);
            output.WriteLine($"{writers[victim].Name}: {writers[victim].CommittedButUnanswered} batch(es) committed by the victim before it died but never answered");
            await AssertExactlyOnceAsync(servers[survivors[0]], writers, entities);
            await AssertVerifiedAsync(connectionString, servers[survivors[1]]);
        });
    }

    [Fact]
    public async Task A_database_restart_mid_ingestion_answers_503_then_recovers_by_itself_losing_nothing()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        await using var cluster = await Cluster.StartAsync(connectionString, 2);
        await WithDiagnosticsAsync(cluster, async stop =>
        {
            var servers = cluster.Servers;
            var entities = await RegisterAsync(servers[0]);
            await ActivateAsync(servers, entities);

            var writers = servers.Select((_, i) => new Writer($"db{i}", i, servers, entities, _ => i)).ToList();
            var running = writers.Select(w => w.RunAsync(stop.Token)).ToList();
            await Task.Delay(TimeSpan.FromSeconds(3));

            var probe = writers[0].Probe("db-down-probe", entities[0]);
            var down = false;
            DateTime restartedAt;
            try
            {
                down = true;
                await fixture.Server.StopServerAsync();
                var stoppedAt = DateTime.UtcNow;

                // Writes: 503, Retry-After, problem+json; nothing acknowledged.
                using (var response = await servers[0].Http.PostAsync("/api/events", probe.Content()))
                {
                    var body = await response.Content.ReadAsStringAsync();
                    Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"POST /api/events with the database down: {(int)response.StatusCode} {body}");
                    Assert.True(response.Headers.RetryAfter?.Delta is { } retry && retry > TimeSpan.Zero, $"no Retry-After: {response.Headers}");
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    Assert.Equal(503, JsonDocument.Parse(body).RootElement.GetProperty("status").GetInt32());
                    output.WriteLine($"with the database down: POST /api/events -> 503, Retry-After: {response.Headers.RetryAfter}, {body}");
                }

                // Reads of active entities still answer from grain memory, on every silo.
                foreach (var server in servers)
                {
                    foreach (var entity in entities.Take(5))
                    {
                        using var response = await server.Http.GetAsync($"/api/entities/{entity}/impact?at={At}");
                        Assert.True(response.StatusCode == HttpStatusCode.OK,
                            $"GET impact of active {entity} with the database down: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }

                await Task.Delay(TimeSpan.FromSeconds(3));
                var downFor = DateTime.UtcNow - stoppedAt;
                await fixture.Server.StartServerAsync();
                down = false;
                restartedAt = DateTime.UtcNow;
                output.WriteLine($"the database was down for {downFor.TotalSeconds:0.0} s");
            }
            finally
            {
                if (down)
                {
                    await fixture.Server.StartServerAsync();
                }
            }

            // Recovery by itself: every writer is acknowledged again without restarting anything.
            var deadline = DateTime.UtcNow + RecoveryBound;
            while (DateTime.UtcNow < deadline && writers.Any(w => w.FirstAcknowledgementAfter(restartedAt) is null))
            {
                await Task.Delay(100);
            }

            foreach (var writer in writers)
            {
                var first = writer.FirstAcknowledgementAfter(restartedAt);
                var statuses = writer.Failures.GroupBy(f => f.Split(':')[0]).Select(g => $"{g.Count()} x {g.Key}");
                output.WriteLine($"{writer.Name}: first acknowledgement {Seconds(first)} after the database restarted; failures while down: {string.Join(", ", statuses)}");
                Assert.True(first is not null, $"{writer.Name} was not acknowledged within {RecoveryBound.TotalSeconds} s of the database restart");
                Assert.All(writer.Failures, f => Assert.StartsWith("503", f));
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            await stop.CancelAsync();
            await Task.WhenAll(running);

            writers[0].Unacknowledged.Add(probe); // refused while down: nothing stored, so sending it again must store it once
            await SendUnacknowledgedAsync(writers, servers, [0, 1]);

            // A commit cut off by the crash may be durable although its client saw an error; resending finds it stored.
            output.WriteLine($"batches answered 503 whose resending found them stored: {writers.Sum(w => w.CommittedButUnanswered)}");
            await AssertExactlyOnceAsync(servers[1], writers, entities);
            await AssertVerifiedAsync(connectionString, servers[0]);
        });
    }

    [Fact]
    public async Task A_rolling_restart_with_SIGTERM_leaves_the_cluster_cleanly_and_loses_nothing()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        // Two silos keep the test within its time on two cores; the kill test already covers three.
        await using var cluster = await Cluster.StartAsync(connectionString, 2, $"--Impact:ShutdownTimeout={ShutdownTimeout}");
        await using var database = NpgsqlDataSource.Create(connectionString);
        await WithDiagnosticsAsync(cluster, async stop =>
        {
            var servers = cluster.Servers;
            var entities = await RegisterAsync(servers[0]);
            await ActivateAsync(servers, entities);

            // Each writer prefers its own server and moves on to the next one when that fails.
            var writers = servers.Select((_, i) => new Writer($"roll{i}", i, servers, entities, attempt => (i + attempt) % servers.Count)).ToList();
            var running = writers.Select(w => w.RunAsync(stop.Token)).ToList();
            await Task.Delay(TimeSpan.FromSeconds(2));

            for (var i = 0; i < servers.Count; i++)
            {
                var server = servers[i];
                var clock = Stopwatch.StartNew();
                var exitCode = await server.StopAsync(ShutdownTimeout + TimeSpan.FromSeconds(10));
                var stopped = clock.Elapsed;

                // A graceful leave writes Dead itself; failure detection is not needed (and would take seconds).
                var status = await SiloStatusAsync(database, server.SiloPort);
                output.WriteLine($"server {i}: SIGTERM -> exit code {exitCode} after {stopped.TotalSeconds:0.000} s; membership status right after exit: {status}");
                Assert.Equal(0, exitCode);
                Assert.True(stopped < ShutdownTimeout, $"server {i} took {stopped.TotalSeconds:0.0} s to stop; its shutdown timeout is {ShutdownTimeout}");
                Assert.True(status == SiloStatusDead, $"server {i}'s membership row has status {status} right after it exited, not {SiloStatusDead} (Dead)");

                clock.Restart();
                await server.StartAsync();
                await WaitUntilServingAsync(server, entities);
                output.WriteLine($"server {i}: serving again {clock.Elapsed.TotalSeconds:0.000} s after its restart began");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            await stop.CancelAsync();
            await Task.WhenAll(running);
            var stoppedAt = DateTime.UtcNow;
            foreach (var writer in writers)
            {
                output.WriteLine($"{writer.Name}: {writer.AcknowledgedCount} batches acknowledged, longest gap {writer.LongestGap(stoppedAt).TotalSeconds:0.000} s, " +
                    $"{writer.Failures.Count} failed attempts retried elsewhere ({string.Join("; ", writer.Failures.Distinct().Take(3))})");
            }

            // A stopping server finishes the requests it took: none was committed without its answer reaching the writer.
            Assert.All(writers, w => Assert.True(w.CommittedButUnanswered == 0,
                $"{w.Name}: {w.CommittedButUnanswered} batches were committed by a stopping server but not answered"));

            await SendUnacknowledgedAsync(writers, servers, [0, 1]);
            await AssertExactlyOnceAsync(servers[1], writers, entities);
            await AssertVerifiedAsync(connectionString, servers[0]);
        });
    }

    // ---- the cluster -------------------------------------------------------------------------------------------

    private sealed class Cluster : IAsyncDisposable
    {
        public List<ServerProcess> Servers { get; } = [];

        /// <summary>The first server migrates the schema; the others then join it together.</summary>
        public static async Task<Cluster> StartAsync(string connectionString, int count, params string[] more)
        {
            var cluster = new Cluster();
            var args = PostgresFixture.ServerArgs(connectionString, more);
            try
            {
                cluster.Servers.Add(await ServerProcess.StartAsync(demo: false, extraArgs: args));
                var others = Enumerable.Range(1, count - 1).Select(_ => ServerProcess.StartAsync(demo: false, extraArgs: args)).ToList();
                try
                {
                    await Task.WhenAll(others);
                }
                finally
                {
                    cluster.Servers.AddRange(others.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
                }
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }

            return cluster;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var server in Servers)
            {
                await server.DisposeAsync();
                server.DeleteData();
            }
        }
    }

    /// <summary>
    /// Runs the test with a token that stops its writers, which it cancels in any case, so that a failed test leaves
    /// no writer running; on failure, prints the end of every server's output.
    /// </summary>
    private async Task WithDiagnosticsAsync(Cluster cluster, Func<CancellationTokenSource, Task> test)
    {
        var stop = new CancellationTokenSource(); // not disposed: writers may still read its token after a failure
        try
        {
            await test(stop);
        }
        catch
        {
            foreach (var (server, i) in cluster.Servers.Select((s, i) => (s, i)))
            {
                var log = server.Output;
                output.WriteLine($"---- server {i} (http {server.HttpPort}, silo {server.SiloPort}), last of its output:");
                output.WriteLine(log.Length > 6000 ? log[^6000..] : log);
            }

            throw;
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    private static async Task<string[]> RegisterAsync(ServerProcess server)
    {
        var entities = Enumerable.Range(0, EntityCount).Select(i => $"co-{i:00}").ToArray();
        foreach (var id in entities)
        {
            using var response = await server.Http.PutAsync($"/api/entities/{id}", Json($$"""{"name":"Company {{id}}","kind":"company","tags":["cluster"]}"""));
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }

        foreach (var (from, to, weight) in new[] { (0, 1, 0.5), (2, 3, 0.3), (4, 0, 0.25), (5, 6, 0.8) })
        {
            using var response = await server.Http.PutAsync("/api/links",
                Json(string.Create(CultureInfo.InvariantCulture, $$"""{"from":"{{entities[from]}}","to":"{{entities[to]}}","weight":{{weight}},"relation":"supplier"}""")));
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }

        return entities;
    }

    /// <summary>Activates entity i through server i mod n, so that each silo is likely to host a share of them.</summary>
    private static async Task ActivateAsync(IReadOnlyList<ServerProcess> servers, string[] entities)
    {
        await Task.WhenAll(entities.Select(async (entity, i) =>
        {
            using var response = await servers[i % servers.Count].Http.GetAsync($"/api/entities/{entity}/impact?at={At}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }));
    }

    private static async Task WaitUntilServingAsync(ServerProcess server, string[] entities)
    {
        var deadline = DateTime.UtcNow + RecoveryBound;
        while (true)
        {
            try
            {
                using var response = await server.Http.GetAsync($"/api/entities/{entities[0]}/impact?at={At}");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"server on {server.HttpPort} did not serve impact within {RecoveryBound}");
            await Task.Delay(100);
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Seconds(TimeSpan? span) => span is { } s ? $"{s.TotalSeconds:0.000} s" : "never";

    // ---- writers -----------------------------------------------------------------------------------------------

    private sealed record Batch(string[] Ids, string[] Entities, string Body)
    {
        public StringContent Content() => new(Body, Encoding.UTF8, "application/x-ndjson");
    }

    /// <summary>
    /// Posts NDJSON batches of new events steadily and keeps what was acknowledged (a 200) and when. A batch that
    /// fails is sent again, with the same ids, to the server <c>target(attempt)</c> names, unless the writer is
    /// told to stop at its first failure; a batch it never got acknowledged is left in <see cref="Unacknowledged"/>.
    /// </summary>
    private sealed class Writer(string name, int index, IReadOnlyList<ServerProcess> servers, string[] entities, Func<int, int> target)
    {
        private readonly Lock gate = new();
        private readonly List<(DateTime At, Batch Batch)> acknowledged = [];
        private int batches;
        private int committedButUnanswered;

        public string Name => name;

        public volatile bool StopOnFailure;

        public ConcurrentQueue<string> Failures { get; } = new();

        /// <summary>Batches whose resending found them already stored: an attempt was committed but its answer was lost.</summary>
        public int CommittedButUnanswered => Volatile.Read(ref committedButUnanswered);

        public List<Batch> Unacknowledged { get; } = [];

        public int AcknowledgedCount
        {
            get
            {
                lock (gate)
                {
                    return acknowledged.Count;
                }
            }
        }

        public IReadOnlyList<Batch> AcknowledgedBatches
        {
            get
            {
                lock (gate)
                {
                    return acknowledged.Select(a => a.Batch).ToList();
                }
            }
        }

        private static readonly string[] Kinds = ["outage", "stock-change", "protest", "statement"];

        public Batch Next()
        {
            var number = batches++;
            var ids = new string[EventsPerBatch];
            var owners = new string[EventsPerBatch];
            var lines = new StringBuilder();
            for (var i = 0; i < EventsPerBatch; i++)
            {
                var n = number * EventsPerBatch + i;
                ids[i] = $"{name}-{number}-{i}";
                owners[i] = entities[(n + index * 11) % entities.Length];
                var occurred = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes((n * 7919L + index * 104_729L) % (364 * 24 * 60));
                var data = Kinds[n % Kinds.Length] switch
                {
                    "outage" => $$"""{"reports":{{1000 + n % 5000}},"baselineReports":500}""",
                    "stock-change" => $$"""{"percent":{{-(n % 40) - 1}}}""",
                    "protest" => $$"""{"participants":{{100 + n % 900}}}""",
                    _ => """{"severity":"major"}""",
                };
                lines.Append(CultureInfo.InvariantCulture,
                    $$"""{"id":"{{ids[i]}}","entity":"{{owners[i]}}","type":"{{Kinds[n % Kinds.Length]}}","occurredAt":"{{occurred:yyyy-MM-ddTHH:mm:ssZ}}","region":"US","data":{{data}}""");
                lines.Append("}\n");
            }

            return new Batch(ids, owners, lines.ToString());
        }

        /// <summary>A batch of this writer's kind that is sent by hand; its ids cannot collide with the writer's own.</summary>
        public Batch Probe(string prefix, string entity) =>
            new([$"{prefix}-1"], [entity], $$"""{"id":"{{prefix}}-1","entity":"{{entity}}","type":"outage","occurredAt":"2025-06-01T00:00:00Z","data":{"reports":9000""" + "}}\n");

        public async Task RunAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested && batches < MaxBatchesPerWriter)
            {
                var batch = Next();
                for (var attempt = 0; ; attempt++)
                {
                    var server = target(attempt);
                    var failure = await SendAsync(servers[server], batch, retry: attempt > 0);
                    if (failure is null)
                    {
                        break;
                    }

                    Failures.Enqueue($"{failure} (server {server})");
                    if (StopOnFailure || (stop.IsCancellationRequested && attempt >= servers.Count))
                    {
                        Unacknowledged.Add(batch);
                        return;
                    }

                    await Task.Delay(150, CancellationToken.None);
                }

                try
                {
                    await Task.Delay(Pace, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>Sends once; null when acknowledged, otherwise what went wrong.</summary>
        public async Task<string?> SendAsync(ServerProcess server, Batch batch, bool retry)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                using var response = await server.Http.PostAsync("/api/events", batch.Content(), timeout.Token);
                var body = await response.Content.ReadAsStringAsync(timeout.Token);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return $"{(int)response.StatusCode}: {(body.Length > 200 ? body[..200] : body)}";
                }

                var result = JsonDocument.Parse(body).RootElement;
                var accepted = result.GetProperty("accepted").GetInt32();
                var duplicates = result.GetProperty("duplicates").GetInt32();
                var rejected = result.GetProperty("rejected").GetArrayLength();
                lock (gate)
                {
                    acknowledged.Add((DateTime.UtcNow, batch));
                }

                // A first attempt carries only new ids; a retry may find some stored by an attempt whose answer was lost.
                if (rejected != 0 || accepted + duplicates != batch.Ids.Length || (!retry && duplicates != 0))
                {
                    Failures.Enqueue($"bad acknowledgement: {body}");
                }

                if (retry && duplicates > 0)
                {
                    Interlocked.Increment(ref committedButUnanswered);
                }

                return null;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                return $"{ex.GetType().Name}: {ex.Message}{(ex.InnerException is { } inner ? $" ({inner.Message})" : "")}";
            }
        }

        public TimeSpan LongestGap(DateTime until)
        {
            lock (gate)
            {
                var times = acknowledged.Select(a => a.At).Order().Append(until).ToList();
                return times.Zip(times.Skip(1), (a, b) => b - a).DefaultIfEmpty(TimeSpan.Zero).Max();
            }
        }

        public TimeSpan? FirstAcknowledgementAfter(DateTime instant)
        {
            lock (gate)
            {
                var after = acknowledged.Where(a => a.At > instant).Select(a => a.At).ToList();
                return after.Count == 0 ? null : after.Min() - instant;
            }
        }
    }

    /// <summary>Sends every batch a writer gave up on to a live server until it is acknowledged.</summary>
    private static async Task SendUnacknowledgedAsync(List<Writer> writers, IReadOnlyList<ServerProcess> servers, int[] live)
    {
        foreach (var writer in writers)
        {
            foreach (var batch in writer.Unacknowledged.ToList())
            {
                var deadline = DateTime.UtcNow + RecoveryBound;
                for (var attempt = 0; ; attempt++)
                {
                    var failure = await writer.SendAsync(servers[live[attempt % live.Length]], batch, retry: true);
                    if (failure is null)
                    {
                        writer.Unacknowledged.Remove(batch);
                        break;
                    }

                    Assert.True(DateTime.UtcNow < deadline, $"a batch of {writer.Name} was not acknowledged after the fault: {failure}");
                    await Task.Delay(200);
                }
            }
        }
    }

    // ---- assertions --------------------------------------------------------------------------------------------

    /// <summary>
    /// Every acknowledged event is in the log once and counted once by its entity grain: per entity, eventCount equals
    /// the acknowledged ids, and the stored ids are exactly those, with no repeats. Delivery may still be catching up
    /// after a fault, so the counts get a deadline.
    /// </summary>
    private async Task AssertExactlyOnceAsync(ServerProcess server, List<Writer> writers, string[] entities)
    {
        Assert.All(writers, w => Assert.Empty(w.Unacknowledged));
        Assert.All(writers, w => Assert.DoesNotContain(w.Failures, f => f.StartsWith("bad acknowledgement", StringComparison.Ordinal)));
        var expected = writers.SelectMany(w => w.AcknowledgedBatches).SelectMany(b => b.Ids.Zip(b.Entities))
            .GroupBy(p => p.Second, p => p.First).ToDictionary(g => g.Key, g => g.Distinct().Order(StringComparer.Ordinal).ToList());
        var total = expected.Values.Sum(ids => ids.Count);

        var clock = Stopwatch.StartNew();
        Dictionary<string, int> counts = [];
        while (true)
        {
            counts = [];
            foreach (var entity in entities)
            {
                var report = await GetJsonAsync(server, $"/api/entities/{entity}/impact?at={At}");
                counts[entity] = report.GetProperty("eventCount").GetInt32();
            }

            if (entities.All(e => counts[e] == expected.GetValueOrDefault(e)?.Count) || clock.Elapsed > RecoveryBound)
            {
                break;
            }

            await Task.Delay(500);
        }

        output.WriteLine($"{total} acknowledged events over {expected.Count} entities; the grains counted {counts.Values.Sum()} " +
            $"(settled {clock.Elapsed.TotalSeconds:0.0} s after the writers stopped)");
        Assert.All(entities, e => Assert.True(counts[e] == expected.GetValueOrDefault(e)?.Count,
            $"{e}: eventCount {counts[e]}, but {expected.GetValueOrDefault(e)?.Count ?? 0} events were acknowledged"));
        Assert.Equal(total, counts.Values.Sum());

        foreach (var entity in entities)
        {
            var page = await GetJsonAsync(server, $"/api/entities/{entity}/events?limit=1000");
            var stored = page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected.GetValueOrDefault(entity) ?? [], stored);
        }
    }

    private static async Task<JsonElement> GetJsonAsync(ServerProcess server, string url)
    {
        using var response = await server.Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The operator's check: a full replay of the log against the live answers.</summary>
    private async Task AssertVerifiedAsync(string connectionString, ServerProcess server)
    {
        var (exitCode, text) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(90), ["verify", .. PostgresFixture.ServerArgs(connectionString,
            $"--url=http://127.0.0.1:{server.HttpPort}", $"--at={At}", $"--api-key={TestApiKeys.Reader}")]);
        output.WriteLine($"verify -> {exitCode}: {text.Trim()}");
        Assert.True(exitCode == 0, $"verify exited with {exitCode}:\n{text}");
    }

    // ---- membership and probes ---------------------------------------------------------------------------------

    /// <summary>The status of the newest membership row of the silo on this port, or null when it has none.</summary>
    private static async Task<int?> SiloStatusAsync(NpgsqlDataSource database, int siloPort)
    {
        await using var command = database.CreateCommand("SELECT status FROM orleans_membership WHERE port = $1 ORDER BY generation DESC LIMIT 1");
        command.Parameters.AddWithValue(siloPort);
        return await command.ExecuteScalarAsync() is int status ? status : null;
    }

    private static async Task<TimeSpan?> WaitForSiloStatusAsync(NpgsqlDataSource database, int siloPort, int status, Stopwatch clock, TimeSpan limit)
    {
        while (clock.Elapsed < limit)
        {
            if (await SiloStatusAsync(database, siloPort) == status)
            {
                return clock.Elapsed;
            }

            await Task.Delay(100);
        }

        return null;
    }

    private sealed record ProbeResult(string Entity, bool AnsweredAtOnce, IReadOnlyList<string> Failures, TimeSpan? AnsweredAfter);

    /// <summary>
    /// Asks a survivor for the entity's impact until it answers 200; a slow or failed first answer means its grain was on
    /// the dead silo. Each failed answer is kept as "status Retry-After: body" (or the exception).
    /// </summary>
    private static async Task<ProbeResult> ProbeAsync(ServerProcess server, string entity, Stopwatch clock, TimeSpan limit)
    {
        var failures = new List<string>();
        while (clock.Elapsed < limit)
        {
            var started = clock.Elapsed;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var response = await server.Http.GetAsync($"/api/entities/{entity}/impact?at={At}", timeout.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return new ProbeResult(entity, failures.Count == 0 && clock.Elapsed - started < TimeSpan.FromSeconds(1), failures, clock.Elapsed);
                }

                var body = await response.Content.ReadAsStringAsync();
                failures.Add($"{(int)response.StatusCode} Retry-After: {response.Headers.RetryAfter?.ToString() ?? "none"} ({response.Content.Headers.ContentType?.MediaType}): {body}");
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                failures.Add($"{ex.GetType().Name} after {(clock.Elapsed - started).TotalSeconds:0.000} s: {ex.Message}");
            }

            await Task.Delay(100);
        }

        return new ProbeResult(entity, false, failures, null);
    }
}
