using System.Diagnostics;
using System.Globalization;
using System.Text;
using ImpactGrains.Bench;
using ImpactGrains.Testing;

// The performance suite's load generator and report. See docs/performance.md; bench/run.sh builds and runs it.
// --smoke: seconds, not minutes; checks that every part works and every peer is measured, asserts no timing.
if (args.FirstOrDefault() == "floor-server")
{
    await FloorServer.RunAsync(args[1..]); // the HTTP floor's own process (Floor.cs)
    return 0;
}

var options = new BenchOptions(args);
var report = new Report(options);
var runId = Guid.NewGuid().ToString("N")[..6];
var total = Stopwatch.StartNew();
Console.WriteLine($"bench: {(options.Smoke ? "smoke" : "full")} run {runId}, {Environment.ProcessorCount} cores, {options.Seconds} s per phase, {options.Entities:N0} entities");

if (options.Runs("ceiling"))
{
    Log("ceiling: bare Orleans grain calls, in-process silo");
    report.Ceiling = await Peers.BareGrainCallsAsync(concurrency: 64, options.Seconds);
    Log($"  {report.Ceiling.Summary("calls")}");
}

if (options.Runs("embedded") || options.Runs("embedded-ingest"))
{
    // embedded-ingest (not in the default parts): the three ingestion phases alone, for profiling a change quickly.
    await EmbeddedAsync(ingestOnly: !options.Runs("embedded"));
}

if (options.Runs("reads"))
{
    Log($"reads (#15): the floor and the read paths, embedded profile, a fresh server, {options.Entities:N0} entities, {options.QueryWorkers} clients");
    await using var server = await BenchServer.StartAsync(ReadSet.ServerArgs);
    await RegisterTimedAsync(server.Http, options.Entities);
    await ActivateTimedAsync(server.Http, options.Entities);
    await Workloads.IngestAsync([server.Http], runId, options.Entities, skewed: false, options.IngestWorkers, options.BatchSize, Math.Min(2, options.Seconds));
    report.Reads = await ReadSet.RunAsync([server], runId, options, Log);
}

if (options.Runs("reads-postgres"))
{
    Log($"reads (#15) on the PostgreSQL profile, 2 silos (reads spread over both), {options.Entities:N0} entities");
    await using var postgres = await PostgresServer.StartAsync();
    var connectionString = await postgres.CreateDatabaseAsync();
    var cluster = new List<BenchServer>();
    try
    {
        cluster.Add(await BenchServer.StartAsync([.. BenchServer.PostgresArgs(connectionString), .. ReadSet.ServerArgs]));
        cluster.Add(await BenchServer.StartAsync([.. BenchServer.PostgresArgs(connectionString), .. ReadSet.ServerArgs]));
        var readRun = runId + "r";
        await Workloads.RegisterAsync(cluster[0].Http, readRun, 0, options.Entities, "company");
        await OneEventEachAsync(cluster[0].Http, readRun, 0, options.Entities);
        await Workloads.IngestAsync([.. cluster.Select(s => s.Http)], readRun, options.Entities, skewed: false, options.IngestWorkers, options.BatchSize, Math.Min(2, options.Seconds));
        report.PostgresReads = await ReadSet.RunAsync([.. cluster], readRun, options, Log);
    }
    finally
    {
        foreach (var silo in cluster)
        {
            await silo.DisposeAsync();
        }
    }
}

if (options.Runs("memory"))
{
    Log($"memory: {options.MemoryEntities:N0} idle entities (one event each) in one silo, embedded profile, a fresh server");
    // Entity grains idle for 10 s are collected (checked every 2 s), so the idle state after collection is reached in
    // seconds rather than the default 15 minutes.
    await using var server = await BenchServer.StartAsync("--Impact:Entities:IdleAfter=00:00:10", "--Orleans:GrainCollection:CollectionQuantum=00:00:02");
    await MemoryAsync(server);
}

if (options.Runs("feed"))
{
    Log($"feed: NATS JetStream against HTTP, {options.Entities:N0} entities, batches of {options.BatchSize}, a fresh embedded server and nats-server");
    (report.FeedHttp, report.Feed) = await FeedBench.RunAsync(runId + "n", options.Entities, options.IngestWorkers, options.BatchSize, options.Seconds, Log);
}

if (options.Runs("postgres"))
{
    await PostgresAsync();
}

if (options.Runs("scale-out"))
{
    await ScaleOutAsync();
}

// Last: its 10,000,000 events leave gigabytes for the kernel to write back, and the peers measured after it (the naive
// table commits an event at a time) ran at half their rate while that went on.
if (options.Runs("history"))
{
    Log($"history: {options.HistoryEvents:N0} events to one entity with a person linked to it, a fresh embedded server");
    report.History = await History.RunAsync(runId + "h", options.HistoryEvents, options.Smoke ? 1 : 5, MemoryNowAsync, Log);
}

report.ReadMicro(options.MicroFile);
var table = report.Render(total.Elapsed);
Console.WriteLine();
Console.WriteLine(table);
if (options.OutFile is not null)
{
    await File.WriteAllTextAsync(options.OutFile, table);
}

return report.Complete ? 0 : 1;

async Task EmbeddedAsync(bool ingestOnly)
{
    Log("embedded profile (SQLite): starting the server");
    await using var server = await BenchServer.StartAsync();
    var silos = new[] { server.Http };
    await RegisterTimedAsync(server.Http, options.Entities);
    await ActivateTimedAsync(server.Http, options.Entities);

    var serverPids = new[] { server.FindProcessId() };
    Log($"  ingestion, uniform: batches of {options.BatchSize} over {options.Entities:N0} entities, {options.IngestWorkers} concurrent clients");
    await WarmUpAsync(silos, serverPids);
    report.EmbeddedUniform = await Throughput.WithCpuAsync(
        () => Workloads.IngestAsync(silos, runId, options.Entities, skewed: false, options.IngestWorkers, options.BatchSize, options.Seconds), serverPids, metrics: silos);
    Log($"  {report.EmbeddedUniform.Summary("events")}");
    Log("  ingestion, skewed: 1% of the entities get half the events");
    report.EmbeddedSkewed = await Throughput.WithCpuAsync(
        () => Workloads.IngestAsync(silos, runId, options.Entities, skewed: true, options.IngestWorkers, options.BatchSize, options.Seconds), serverPids, metrics: silos);
    Log($"  {report.EmbeddedSkewed.Summary("events")}");
    Log("  ingestion, hot: every event to one entity");
    report.EmbeddedHot = await Throughput.WithCpuAsync(
        () => Workloads.IngestAsync(silos, runId, 1, skewed: false, options.IngestWorkers, options.BatchSize, options.Seconds), serverPids, metrics: silos);
    Log($"  {report.EmbeddedHot.Summary("events")}");
    if (ingestOnly)
    {
        return;
    }

    string Impact(Random r) => $"/api/entities/{BenchEvents.EntityId(runId, r.Next(options.Entities))}/impact";
    Log($"  queries, closed loop, {options.QueryWorkers} concurrent clients");
    await Workloads.QueryAsync(server.Http, Impact, options.QueryWorkers, Math.Min(1, options.Seconds)); // warm-up
    report.Impact = await Workloads.QueryAsync(server.Http, Impact, options.QueryWorkers, options.Seconds);
    Log($"  impact: {report.Impact.Summary("reads")}");
    report.Explain = await Workloads.QueryAsync(server.Http, r => $"/api/entities/{BenchEvents.EntityId(runId, r.Next(options.Entities))}/explain?limit=10", options.QueryWorkers, options.Seconds / 2);
    Log($"  explain: {report.Explain.Summary("reads")}");
    report.Leaderboard = await Workloads.QueryAsync(server.Http, _ => "/api/leaderboard?limit=10", options.QueryWorkers, options.Seconds / 2);
    Log($"  leaderboard: {report.Leaderboard.Summary("reads")}");

    // Half the target rate (30,000/s), or half what the server managed if that is less.
    report.ImpactRate = Math.Min(Targets.ImpactReadsPerSecond, report.Impact.PerSecond) / 2;
    Log($"  impact reads, open loop at {report.ImpactRate:N0}/s");
    report.ImpactAtRate = await Workloads.QueryAtRateAsync(server.Http, Impact, report.ImpactRate, options.Seconds);
    Log($"  {report.ImpactAtRate.Summary("reads")}");

    Log("  mixed: ingestion and impact reads together, with freshness probes");
    using var mixedStop = new CancellationTokenSource();
    var freshness = new Freshness();
    var probes = freshness.RunAsync(server.Http.BaseAddress!, runId, options.FreshnessRounds, options.Seconds * 3, mixedStop.Token);
    var ingest = Workloads.IngestAsync(silos, runId, options.Entities, skewed: false, options.MixedIngestWorkers, options.BatchSize, options.Seconds);
    var reads = Workloads.QueryAsync(server.Http, Impact, options.QueryWorkers / 2, options.Seconds);
    report.MixedIngest = await ingest;
    report.MixedReads = await reads;
    await probes;
    report.Freshness = freshness;
    Log($"  mixed ingestion: {report.MixedIngest.Summary("events")}");
    Log($"  mixed reads: {report.MixedReads.Summary("reads")}");
    Log($"  ack → impact: {freshness.ToScore.Summary()}; → leaderboard: {freshness.ToLeaderboard.Summary()}; → stream: {freshness.ToStream.Summary()}");

    var logged = report.EmbeddedUniform.Operations + report.EmbeddedSkewed.Operations + report.EmbeddedHot.Operations + report.MixedIngest.Operations;
    if (logged < options.RecoveryEvents)
    {
        Log($"  filling the log to {options.RecoveryEvents:N0} events for the recovery measure");
        while (logged < options.RecoveryEvents)
        {
            var seconds = Math.Min(60, (options.RecoveryEvents - logged) / Math.Max(1000, report.EmbeddedUniform.PerSecond) + 1);
            logged += (await Workloads.IngestAsync(silos, runId, options.Entities, skewed: false, options.IngestWorkers, options.BatchSize, seconds)).Operations;
        }
    }

    report.RecoveryEvents = logged;
    Log($"  recovery: kill -9 over a log of {logged:N0} events, restart, time to the first answered /impact");
    report.RecoverySeconds = await Recovery.RestartAsync(server.Process, $"/api/entities/{BenchEvents.EntityId(runId, 0)}/impact");
    Log($"  first query answered {report.RecoverySeconds:0.00} s after the process started");
}

async Task MemoryAsync(BenchServer server)
{
    var memoryRun = runId + "m";
    const int warm = 1000;
    await Workloads.RegisterAsync(server.Http, memoryRun, 0, warm, "company");
    await OneEventEachAsync(server.Http, memoryRun, 0, warm);
    await EntityGrainsCollectedAsync(server);
    var before = await MemoryNowAsync(server);
    var watch = Stopwatch.StartNew();
    await Workloads.RegisterAsync(server.Http, memoryRun, warm, options.MemoryEntities, "company");
    report.RegistrationPerSecond = options.MemoryEntities / watch.Elapsed.TotalSeconds;
    Log($"  registered in bulk in {watch.Elapsed.TotalSeconds:0.0} s, {report.RegistrationPerSecond:N0} entities/s");
    var oneEach = Stopwatch.StartNew();
    await OneEventEachAsync(server.Http, memoryRun, warm, options.MemoryEntities);
    report.FirstEventsPerSecond = options.MemoryEntities / oneEach.Elapsed.TotalSeconds;
    Log($"  one event each, {report.FirstEventsPerSecond:N0} entities/s (a cold activation each), {watch.Elapsed.TotalSeconds:0.0} s so far; idle");
    await Task.Delay(options.Smoke ? 1000 : 5000);
    var active = await MemoryNowAsync(server);
    report.MemoryActive = (active - before) / options.MemoryEntities;
    Log($"  {report.MemoryActive}");
    await EntityGrainsCollectedAsync(server);
    var collected = await MemoryNowAsync(server);
    report.MemoryCollected = (collected - before) / options.MemoryEntities;
    Log($"  grains collected: {report.MemoryCollected}");

    // Queries among that many entities: the leaderboard from the partitions' standings, a search by name, and the
    // impact of an idle entity (its grain activated again, from its snapshot or the log).
    var seconds = options.Smoke ? 1 : 5;
    string AnyEntity(Random r) => BenchEvents.EntityId(memoryRun, warm + r.Next(options.MemoryEntities));
    report.ManyLeaderboard = await Workloads.QueryAsync(server.Http, _ => "/api/leaderboard?limit=10", options.QueryWorkers, seconds);
    report.ManySearch = await Workloads.QueryAsync(server.Http, r => $"/api/entities?q={Uri.EscapeDataString(AnyEntity(r)[..^1])}&limit=20", options.QueryWorkers, seconds);
    report.ManyIdleImpact = await Workloads.QueryAsync(server.Http, r => $"/api/entities/{AnyEntity(r)}/impact", options.QueryWorkers, seconds);
    Log(F($"  among them: leaderboard {report.ManyLeaderboard.PerSecond:N0}/s, search {report.ManySearch.PerSecond:N0}/s, an idle entity's impact {report.ManyIdleImpact.PerSecond:N0}/s"));
}

// Resident memory from /proc, and the live managed heap after a full collection induced through the diagnostics port.
// Uniform ingestion until the servers' JIT worker has gone quiet (Throughput.WarmUntilJitQuietAsync), at least
// --warmup-seconds.
async Task WarmUpAsync(HttpClient[] silos, int[] pids)
{
    var (elapsed, share) = await Throughput.WarmUntilJitQuietAsync(
        seconds => Workloads.IngestAsync(silos, runId, options.Entities, skewed: false, options.IngestWorkers, options.BatchSize, seconds),
        pids, options.WarmupSeconds, options.Smoke);
    Log(F($"  warm-up: {elapsed.TotalSeconds:0} s of ingestion; the JIT worker's last share {share:P1} of a core"));
}

async Task<MemoryFigures> MemoryNowAsync(BenchServer server)
{
    await Task.Run(() => ServerGc.InduceFullCollection(server.FindProcessId()));
    await Task.Delay(1500); // the metrics exporter caches its answer for a moment
    return new MemoryFigures(server.ResidentBytes(), await server.LiveHeapBytesAsync());
}

async Task EntityGrainsCollectedAsync(BenchServer server)
{
    var watch = Stopwatch.StartNew();
    while (await server.ActivationsAsync("entity") > 0)
    {
        if (watch.Elapsed > TimeSpan.FromMinutes(5))
        {
            throw new TimeoutException("entity grains were not collected within 5 minutes");
        }

        await Task.Delay(1000);
    }

    Log($"  every entity grain collected after {watch.Elapsed.TotalSeconds:0} s");
}

async Task PostgresAsync()
{
    Log("PostgreSQL: starting a throwaway server (fsync on)");
    await using var postgres = await PostgresServer.StartAsync();

    Log($"  naive peer: one transaction per event, {options.NaiveConnections} connections");
    var naiveDatabase = await postgres.CreateDatabaseAsync();
    await Peers.NaivePostgresAsync(naiveDatabase, runId + "w", options.Entities, options.NaiveConnections, options.WarmupSeconds);
    report.Naive = await Throughput.WithCpuAsync(
        () => Peers.NaivePostgresAsync(naiveDatabase, runId, options.Entities, options.NaiveConnections, options.Seconds), [], postgres.PostmasterPid);
    Log($"  {report.Naive.Summary("events")}");

    Log($"  our PostgreSQL profile, 1 silo, {options.IngestWorkers} clients");
    var connectionString = await postgres.CreateDatabaseAsync();
    await using var server = await BenchServer.StartAsync(BenchServer.PostgresArgs(connectionString));
    try
    {
        await RegisterTimedAsync(server.Http, options.Entities);
        await ActivateTimedAsync(server.Http, options.Entities);
        var clients = new[] { server.Http };
        int[] pids = [server.FindProcessId()];
        await WarmUpAsync(clients, pids);
        report.Postgres = await Throughput.WithCpuAsync(
            () => Workloads.IngestAsync(clients, runId, options.Entities, skewed: false, options.IngestWorkers, options.BatchSize, options.Seconds), pids, postgres.PostmasterPid, clients);
        Log($"  {report.Postgres.Summary("events")}");
        Log("  ingestion, hot: every event to one entity");
        report.PostgresHot = await Throughput.WithCpuAsync(
            () => Workloads.IngestAsync(clients, runId, 1, skewed: false, options.IngestWorkers, options.BatchSize, options.Seconds), pids, postgres.PostmasterPid, clients);
        Log($"  {report.PostgresHot.Summary("events")}");
        report.PostgresImpact = await Workloads.QueryAsync(server.Http,
            r => $"/api/entities/{BenchEvents.EntityId(runId, r.Next(options.Entities))}/impact", options.QueryWorkers, options.Seconds / 2);
        Log($"  impact: {report.PostgresImpact.Summary("reads")}");
    }
    catch
    {
        Console.Error.WriteLine("--- the silo's last output:");
        Console.Error.WriteLine(string.Join('\n', server.Process.Output.Split('\n').TakeLast(40)));
        throw;
    }
}

// Scale-out (#16): N silos, each held to the same CPU quota, on one PostgreSQL; then one of them killed under load.
async Task ScaleOutAsync()
{
    var cores = options.SiloCores;
    if (cores > 0 && CpuQuota.Unavailable() is { } why)
    {
        Log($"scale-out: no CPU quotas ({why}); the silos share the machine's cores");
        cores = 0;
    }

    report.SiloCores = cores;
    Log($"scale-out: PostgreSQL profile, silos {string.Join(", ", options.Silos)}, {(cores > 0 ? F($"each held to {cores:0.##} of a core") : "no quotas")}");
    await using var postgres = await PostgresServer.StartAsync();
    foreach (var silos in options.Silos)
    {
        if (await MeasureClusterAsync(silos) is { } run)
        {
            report.ScaleOut[silos] = run;
        }
    }

    if (options.Silos.Contains(1) && options.Silos.Length > 1)
    {
        // One silo again at the end: at a tenth of a core the one-silo figure moved by a third between runs of the same
        // code, and every ratio divides by it; the mean of a run before and one after the larger clusters steadies it.
        Log("  one silo again, after the larger clusters");
        report.ScaleOutOneAgain = await MeasureClusterAsync(1);
    }

    async Task<ScaleOut.Run?> MeasureClusterAsync(int silos)
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var cluster = new List<BenchServer>();
        var quotas = new List<CpuQuota>();
        try
        {
            cluster = await ScaleOut.StartClusterAsync(connectionString, silos, cores);
            quotas = await PrepareClusterAsync(cluster, cores);
            var run = await ScaleOut.MeasureAsync(cluster, quotas, runId, options, postgres.PostmasterPid);
            if (Environment.GetEnvironmentVariable("BENCH_KEEP_LOGS") is { Length: > 0 })
            {
                await KeepLogsAsync(cluster);
            }

            Log(F($"  {silos} silo(s): {run.Result.Summary("events")}; {run.RemoteMessagesPerEvent:0.###} remote messages per event, quota binding in {run.ThrottledShare:P0} of periods; after the set-up {run.IdleCoresPerSilo:0.000} cores per silo; impact reads {run.ReadsPerSecond:N0}/s at {run.ReadMicros:N0} µs of silo CPU each, p50 / p99 {run.ReadLatency.P50:0.0} / {run.ReadLatency.P99:0.0} ms, {run.RemoteMessagesPerRead:0.##} remote messages each, quota binding in {run.ReadThrottledShare:P0} of periods"));
            return run;
        }
        catch (Exception ex)
        {
            // Recorded in the table rather than ending the suite: a cluster that cannot take the load is a result.
            var reason = ex.Message.Split('\n')[0];
            report.ScaleOutFailures[silos] = reason[..Math.Min(reason.Length, 160)];
            Log($"  failed: {report.ScaleOutFailures[silos]}");
            await KeepLogsAsync(cluster);
            return null;
        }
        finally
        {
            await DisposeClusterAsync(cluster, quotas);
        }
    }

    if (options.FailoverSilos > 1)
    {
        Log($"  failover: {options.FailoverSilos} silos under load, the last one killed (kill -9) after {options.ScaleOutSeconds} s");
        var connectionString = await postgres.CreateDatabaseAsync();
        // Our own information (owners unreachable, deliveries recovered) and Orleans' membership view, for the kept logs.
        var cluster = await ScaleOut.StartClusterAsync(connectionString, options.FailoverSilos, cores,
            "--Logging:LogLevel:ImpactGrains=Information", "--Logging:LogLevel:Orleans.Runtime.MembershipService=Information",
            "--Logging:Console:FormatterName=simple", "--Logging:Console:FormatterOptions:TimestampFormat=HH:mm:ss.fff ", "--Logging:Console:FormatterOptions:UseUtcTimestamp=true");
        var quotas = new List<CpuQuota>();
        try
        {
            quotas = await PrepareClusterAsync(cluster, cores);
            await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds)); // past the set-up's snapshot burst, as in the runs above
            await Workloads.IngestAsync(cluster.Select(s => s.Http).ToArray(), runId, options.Entities, skewed: false, options.IngestWorkers, options.BatchSize, options.Smoke ? 1 : 3); // warm-up
            report.Failover = await ScaleOut.FailoverAsync(cluster, connectionString, runId, options);
            var f = report.Failover;
            Log(F($"  before {f.RateBefore:N0} events/s, after {f.RateAfter:N0}; first back at 0.7 of the rate in {(f.FirstBackSeconds is { } b ? $"{b:0} s" : "never")}, for good in {(f.RecoverySeconds is { } r ? $"{r:0} s" : "never")} ({f.WindowsBelowBeforeKill.Below} of {f.WindowsBelowBeforeKill.Windows} 3-second windows before the kill under 0.7 of it); acknowledged {f.Acknowledged:N0}, logged {f.Logged:N0} ({f.LoggedDistinct:N0} distinct)"));
            Log($"  events per second, the kill after second {f.KillSecond} (at {f.KilledAt:HH:mm:ss.fff} UTC): {string.Join(' ', f.PerSecond)}");
            await KeepLogsAsync(cluster); // what each silo saw of the kill and the move of its entities
        }
        catch
        {
            await KeepLogsAsync(cluster);
            throw;
        }
        finally
        {
            await DisposeClusterAsync(cluster, quotas);
        }
    }
}

// The entities registered and activated at full speed, the cluster settled, then every silo held to its quota.
async Task<List<CpuQuota>> PrepareClusterAsync(List<BenchServer> cluster, double cores)
{
    await RegisterTimedAsync(cluster[0].Http, options.Entities);
    await ActivateTimedAsync(cluster[0].Http, options.Entities);
    await ScaleOut.SettleAsync(cluster, options.Entities);
    await ScaleOut.WarmDirectoriesAsync(cluster, runId, options.Entities);
    return ScaleOut.Limit(cluster, cores);
}

async Task KeepLogsAsync(IEnumerable<BenchServer> cluster)
{
    foreach (var server in cluster)
    {
        var file = Path.Combine(Path.GetTempPath(), $"impactgrains-bench-silo-{server.Process.HttpPort}.log");
        await File.WriteAllTextAsync(file, server.Process.Output);
        Log($"  silo on port {server.Process.HttpPort}: its output is in {file}");
    }
}

static async Task DisposeClusterAsync(IEnumerable<BenchServer> cluster, IEnumerable<CpuQuota> quotas)
{
    foreach (var server in cluster)
    {
        await server.DisposeAsync();
    }

    foreach (var quota in quotas)
    {
        quota.Dispose();
    }
}

async Task RegisterTimedAsync(HttpClient http, int count)
{
    var watch = Stopwatch.StartNew();
    await Workloads.RegisterAsync(http, runId, 0, count, "company");
    Log($"  registered {count:N0} entities in {watch.Elapsed.TotalSeconds:0.0} s");
}

// Steady state is measured with every entity's grain active: one event each first, timed on its own (cold activations).
async Task ActivateTimedAsync(HttpClient http, int count)
{
    var watch = Stopwatch.StartNew();
    await OneEventEachAsync(http, runId, 0, count);
    Log($"  activated {count:N0} entities (one event each) in {watch.Elapsed.TotalSeconds:0.0} s");
}

async Task OneEventEachAsync(HttpClient http, string run, int from, int count)
{
    var now = DateTimeOffset.UtcNow.AddSeconds(-1);
    var batches = Enumerable.Range(0, (count + options.BatchSize - 1) / options.BatchSize).ToList();
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, options.IngestWorkers).Select(async _ =>
    {
        int b;
        while ((b = Interlocked.Increment(ref next)) < batches.Count)
        {
            var json = new StringBuilder("[");
            for (var i = from + b * options.BatchSize; i < Math.Min(from + count, from + (b + 1) * options.BatchSize); i++)
            {
                var e = new BenchEvent($"{run}-one-{i}", BenchEvents.EntityId(run, i), "statement", now, "US", """{"severity":"minor"}""", 1);
                json.Append(json.Length > 1 ? "," : "").Append(BenchEvents.ToJson(e));
            }

            await Workloads.PostEventsAsync(http, Encoding.UTF8.GetBytes(json.Append(']').ToString()));
        }
    }));
}

static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

void Log(string line) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{total.Elapsed.TotalSeconds,6:0.0}s] {line}"));
