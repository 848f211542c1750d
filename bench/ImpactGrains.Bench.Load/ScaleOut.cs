using System.Diagnostics;
using System.Globalization;
using ImpactGrains.Testing;
using Npgsql;

namespace ImpactGrains.Bench;

/// <summary>
/// Scale-out (issue #16): N silos of the PostgreSQL profile on one PostgreSQL, each held to the same CPU quota so that N
/// silos have N times the capacity of one, the load spread over every silo; and a silo killed under that load.
/// </summary>
public static class ScaleOut
{
    /// <param name="RemoteMessagesPerEvent">Messages the silos sent each other (Orleans' own count) per accepted event.</param>
    /// <param name="ThrottledShare">The share of the quota periods in which the silos ran out of quota: near 1, the quota is what bounds them.</param>
    /// <param name="IdleCoresPerSilo">
    /// CPU a silo used while nothing was sent, after the set-up: its entities' first snapshot writes, timers, membership.
    /// </param>
    public sealed record Run(int Silos, Throughput Result, double RemoteMessagesPerEvent, double ThrottledShare, double IdleCoresPerSilo)
    {
        /// <summary>Closed-loop /impact reads spread over every silo, before the ingestion.</summary>
        public double ReadsPerSecond { get; init; }

        /// <summary>The silos' CPU per read, and the share of quota periods they ran out of quota in, during the reads.</summary>
        public double? ReadMicros { get; init; }

        public double ReadThrottledShare { get; init; }

        /// <summary>Messages the silos sent each other per read: a read that lands on the entity's owner sends none.</summary>
        public double RemoteMessagesPerRead { get; init; }

        /// <summary>Read latency p50 / p99 (ms), all silos' readers together.</summary>
        public (double P50, double P99) ReadLatency { get; init; }
    }

    /// <param name="RateBefore">Events/s before the kill.</param>
    /// <param name="RecoverySeconds">
    /// From the kill to the end of the first 3-second window from which every window to the end runs at ≥ 0.7 of
    /// <paramref name="RateBefore"/>; null if the end of the run is not such a window.
    /// </param>
    /// <param name="Acknowledged">Distinct event ids the load generator had acknowledged (every batch retried until it was).</param>
    /// <param name="Logged">Rows of those ids in the log; equal to <paramref name="Acknowledged"/> when nothing was lost or doubled.</param>
    public sealed record Failover(int Silos, double RateBefore, double RateAfter, double? RecoverySeconds, long Acknowledged, long Logged, long LoggedDistinct)
    {
        /// <summary>Events acknowledged in each second of the run, the kill at <see cref="KillSecond"/>: what the recovery figure is read from.</summary>
        public IReadOnlyList<long> PerSecond { get; init; } = [];

        public int KillSecond { get; init; }

        /// <summary>When the silo was killed (UTC), to read the kept silo logs' timestamps against.</summary>
        public DateTime KilledAt { get; init; }

        /// <summary>
        /// How many 3-second windows before the kill were already under 0.7 of the rate (of how many): the noise floor of
        /// the recovery figure, since at a tenth of a core acknowledgements come in lumps.
        /// </summary>
        public (int Below, int Windows) WindowsBelowBeforeKill { get; init; }

        /// <summary>
        /// From the kill to the end of the first 3-second window after it at ≥ 0.7 of <see cref="RateBefore"/>: how long
        /// the cluster stalled, whether or not the rate then held (<see cref="RecoverySeconds"/> asks that it did).
        /// </summary>
        public double? FirstBackSeconds { get; init; }
    }

    /// <summary>
    /// The environment of a silo held to a share of one core, as docs/operations.md advises for such pods: the runtime
    /// sizes its pools to one processor, and every method is compiled once, optimized, instead of tiered (a tiered JIT
    /// recompiling hot methods in the background took a third to half of a tenth of a core: an idle silo used 0.066
    /// cores after the set-up, 0.026 without it) and instead of running the framework's precompiled (ReadyToRun) code,
    /// which without tiering is never replaced by better code (one silo's /impact read 212–334 µs of its CPU with it,
    /// 184 µs without; 4 silos' 720–1,197 µs against 488). Idle thread-pool workers already sleep without spinning (the
    /// server's runtimeconfig).
    /// </summary>
    public static IReadOnlyDictionary<string, string> SiloEnvironment(double cores) =>
        cores > 0
            ? new Dictionary<string, string> { ["DOTNET_PROCESSOR_COUNT"] = "1", ["DOTNET_TieredCompilation"] = "0", ["DOTNET_ReadyToRun"] = "0" }
            : new Dictionary<string, string>();

    /// <summary>
    /// Starts <paramref name="silos"/> silos on one database, one after another: the first migrates the schema, the
    /// others then join it. None is left running when one fails to start.
    /// </summary>
    public static async Task<List<BenchServer>> StartClusterAsync(string connectionString, int silos, double cores, params string[] extraArgs)
    {
        var cluster = new List<BenchServer>();
        try
        {
            var environment = SiloEnvironment(cores);
            // Pools sized as docs/operations.md asks: silos × (2 × pool + 4) within the database's max_connections
            // (300 here). With the default pool of 100, eight silos activating their entities at full speed took more
            // than 300 connections and PostgreSQL refused the rest.
            var pooled = connectionString + ";Maximum Pool Size=" + Math.Max(8, (300 / Math.Max(1, silos) - 4) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
            string[] args = [.. BenchServer.PostgresArgs(pooled), .. extraArgs];
            // One at a time: a start compiles everything it runs once, optimized (SiloEnvironment), about 9 s of CPU;
            // eight at once held the 2 cores for half a minute, and the membership declared one of them dead.
            for (var i = 0; i < silos; i++)
            {
                cluster.Add(await BenchServer.StartWithEnvironmentAsync(environment, args));
            }

            return cluster;
        }
        catch
        {
            foreach (var server in cluster)
            {
                await server.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>
    /// Waits until every entity's grain is active somewhere and no delivery is pending: the activation load is done at
    /// full speed, before the quotas, as a long-running cluster would have done it. It may take 90 s plus 30 s per silo
    /// (every silo JIT-compiles its start-up on the same 2 cores: 8 silos did not finish in 90 s).
    /// </summary>
    public static async Task SettleAsync(List<BenchServer> cluster, int entities)
    {
        var limit = TimeSpan.FromSeconds(90 + 30 * cluster.Count);
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        double active = 0, pending = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            active = 0;
            pending = 0;
            foreach (var server in cluster)
            {
                active += await server.ActivationsAsync("entity");
                pending += await ServerMetrics.SumAsync(server.Http, "impactgrains_delivery_pending");
            }

            if (active >= entities && pending <= 0)
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException(FormattableString.Invariant(
            $"the cluster did not settle within {limit.TotalSeconds:0} s: {active:N0} of {entities:N0} entity grains active, {pending:N0} deliveries pending"));
    }

    /// <summary>
    /// Reads every entity's impact once through every silo, at full speed before the quotas: a running cluster's silos
    /// have the entities' addresses in their grain directory caches (Orleans keeps them up to 4 minutes), but the
    /// measured seconds alone reach a tenth of the entities per silo at a tenth of a core, and a read of an entity a silo
    /// has not addressed yet first asks the directory partition that holds it where it is (2.6 remote messages per read
    /// with 4 silos instead of 1.5; 60% of the directory lookups missed the cache).
    /// </summary>
    public static async Task WarmDirectoriesAsync(List<BenchServer> cluster, string runId, int entities)
    {
        if (cluster.Count < 2)
        {
            return;
        }

        await Task.WhenAll(cluster.Select(async silo =>
        {
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                var local = new byte[16 * 1024];
                for (var i = Interlocked.Increment(ref next); i < entities; i = Interlocked.Increment(ref next))
                {
                    await Workloads.GetDrainedAsync(silo.Http, $"/api/entities/{BenchEvents.EntityId(runId, i)}/impact", local);
                }
            }));
        }));
    }

    /// <summary>Holds every silo to <paramref name="cores"/> of a core (none when 0).</summary>
    public static List<CpuQuota> Limit(IEnumerable<BenchServer> cluster, double cores) =>
        cores > 0 ? cluster.Select(s => CpuQuota.Limit(s.FindProcessId(), cores)).ToList() : [];

    /// <summary>Uniform ingestion spread over every silo, with the remote messages it caused.</summary>
    public static async Task<Run> MeasureAsync(List<BenchServer> cluster, IReadOnlyList<CpuQuota> quotas, string runId, BenchOptions options, int databasePid)
    {
        // Reads first, on the settled cluster: after the ingestion each silo is still applying what it acknowledged.
        var clients = cluster.Select(s => s.Http).ToArray();
        var pids = cluster.Select(s => s.FindProcessId()).ToArray();
        var idleSeconds = options.IdleSeconds;
        var idleBefore = pids.Sum(ProcessCpu.Seconds);
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
        var idleCores = (pids.Sum(ProcessCpu.Seconds) - idleBefore) / idleSeconds / pids.Length;
        var readers = Math.Max(4, options.QueryWorkers / cluster.Count);
        Task<Throughput[]> ReadAsync() => Task.WhenAll(cluster.Select(s => Workloads.QueryAsync(s.Http,
            r => $"/api/entities/{BenchEvents.EntityId(runId, r.Next(options.Entities))}/impact", readers, options.ScaleOutReadSeconds)));
        // Once unmeasured: the first reads between silos compile their calls' serializers, and without the tiered JIT
        // (SiloEnvironment) at a tenth of a core that took most of the measured seconds (9 reads/s with 2 silos).
        await ReadAsync();
        var (readThrottledBefore, readPeriodsBefore) = Throttling(quotas);
        var readMessagesBefore = await SentMessagesAsync(cluster);
        var readCpuBefore = pids.Sum(ProcessCpu.Seconds);
        var reads = await ReadAsync();
        var readCpu = pids.Sum(ProcessCpu.Seconds) - readCpuBefore;
        var readMessages = await SentMessagesAsync(cluster) - readMessagesBefore;
        var (readThrottled, readPeriods) = Throttling(quotas);
        var workers = Math.Max(options.IngestWorkers, options.ScaleOutWorkersPerSilo * cluster.Count);
        // Long enough for the tiered JIT to finish the hot paths within the quota.
        await Workloads.IngestAsync(clients, runId, options.Entities, skewed: false, workers, options.BatchSize, options.Smoke ? 1 : 3);
        var messagesBefore = await SentMessagesAsync(cluster);
        var (throttledBefore, periodsBefore) = Throttling(quotas);
        var result = await Throughput.WithCpuAsync(
            () => Workloads.IngestAsync(clients, runId, options.Entities, skewed: false, workers, options.BatchSize, options.ScaleOutSeconds),
            pids, databasePid);
        var messages = await SentMessagesAsync(cluster) - messagesBefore;
        var (throttled, periods) = Throttling(quotas);
        return new Run(cluster.Count, result, messages / Math.Max(1, result.Operations),
            periods > periodsBefore ? (double)(throttled - throttledBefore) / (periods - periodsBefore) : 0, idleCores)
        {
            ReadsPerSecond = reads.Sum(r => r.PerSecond),
            RemoteMessagesPerRead = readMessages / Math.Max(1, reads.Sum(r => r.Operations)),
            ReadMicros = readCpu / Math.Max(1, reads.Sum(r => r.Operations)) * 1e6,
            ReadThrottledShare = readPeriods > readPeriodsBefore ? (double)(readThrottled - readThrottledBefore) / (readPeriods - readPeriodsBefore) : 0,
            ReadLatency = (reads.Max(r => r.Latency.Percentile(0.5)), reads.Max(r => r.Latency.Percentile(0.99))),
        };
    }

    /// <summary>
    /// Ingestion over every silo for three phases' time; one silo killed (kill -9) after the first. Clients whose silo
    /// fails move to another and post the same batch again until it is acknowledged, so every id sent is acknowledged
    /// once; then the log must hold each exactly once.
    /// </summary>
    public static async Task<Failover> FailoverAsync(List<BenchServer> cluster, string connectionString, string runId, BenchOptions options)
    {
        const int BatchSize = 200; // small batches: per-second rates that are not lumps of a few batches
        var seconds = options.ScaleOutSeconds * 3;
        var killAt = options.ScaleOutSeconds;
        var workers = Math.Min(99, Math.Max(options.IngestWorkers, options.ScaleOutWorkersPerSilo * cluster.Count) * 2);
        var perSecond = new long[(int)Math.Ceiling(seconds) + 120];
        long acknowledged = 0;
        var dead = -1;
        var killedAt = DateTime.MinValue;
        const int FirstSeed = 100_000; // event ids "{run}-1000NN-n": apart from every other workload's
        var started = Stopwatch.GetTimestamp();
        var until = started + (long)(seconds * Stopwatch.Frequency);

        var killer = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(killAt));
            Volatile.Write(ref dead, cluster.Count - 1);
            killedAt = DateTime.UtcNow;
            cluster[^1].Process.Kill();
        });

        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var events = new BenchEvents(runId, options.Entities, skewed: false, seed: FirstSeed + w);
            var silo = w % cluster.Count;
            while (Stopwatch.GetTimestamp() < until)
            {
                var body = events.Batch(BatchSize, DateTimeOffset.UtcNow);
                var giveUp = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
                while (true)
                {
                    if (silo == Volatile.Read(ref dead))
                    {
                        silo = (silo + 1) % cluster.Count;
                    }

                    try
                    {
                        var accepted = await Workloads.PostEventsAsync(cluster[silo].Http, body);
                        Interlocked.Add(ref perSecond[(int)Stopwatch.GetElapsedTime(started).TotalSeconds], accepted);
                        Interlocked.Add(ref acknowledged, BatchSize);
                        break;
                    }
                    catch (Exception) when (Stopwatch.GetTimestamp() < giveUp)
                    {
                        // The silo is gone or answered 503 while the cluster moves its entities: the same batch again,
                        // elsewhere if this silo died. Ids make the retry idempotent.
                        silo = (silo + 1) % cluster.Count;
                        await Task.Delay(100);
                    }
                }
            }
        })));
        await killer;

        var (logged, distinct) = await CountLoggedAsync(connectionString, $"^{runId}-1000[0-9][0-9]-");
        var before = Rate(perSecond, 2, killAt);
        // Recovered at the first second after the kill from which every 3-second window to the end runs at ≥ 0.7 of the
        // rate before: a burst right after the kill that falls back does not count.
        double? recovery = null;
        for (var t = (int)seconds - 3; t >= (int)killAt && Rate(perSecond, t, t + 3) >= 0.7 * before; t--)
        {
            recovery = t + 3 - killAt;
        }

        return new Failover(cluster.Count, before, Rate(perSecond, seconds - options.ScaleOutSeconds, seconds), recovery, acknowledged, logged, distinct)
        {
            PerSecond = perSecond[..(int)Math.Ceiling(seconds)],
            KillSecond = (int)killAt,
            KilledAt = killedAt,
            FirstBackSeconds = Enumerable.Range((int)killAt, Math.Max(0, (int)seconds - 3 - (int)killAt + 1))
                .Where(t => Rate(perSecond, t, t + 3) >= 0.7 * before).Select(t => (double?)(t + 3 - killAt)).FirstOrDefault(),
            WindowsBelowBeforeKill = (Enumerable.Range(2, Math.Max(0, (int)killAt - 4)).Count(t => Rate(perSecond, t, t + 3) < 0.7 * before), Math.Max(0, (int)killAt - 4)),
        };
    }

    private static double Rate(long[] perSecond, double from, double to)
    {
        var (a, b) = ((int)from, (int)to);
        return b <= a ? 0 : (double)perSecond[a..b].Sum() / (b - a);
    }

    private static async Task<(long Rows, long Distinct)> CountLoggedAsync(string connectionString, string idPattern)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*), count(DISTINCT event_id) FROM event_log WHERE event_id ~ $1", connection);
        command.Parameters.AddWithValue(idPattern);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Messages the silos have sent to other silos so far (Orleans' histogram of sent message sizes counts them).</summary>
    private static async Task<double> SentMessagesAsync(IEnumerable<BenchServer> cluster)
    {
        double total = 0;
        foreach (var server in cluster)
        {
            var text = await server.Http.GetStringAsync("/metrics");
            total += text.Split('\n')
                .Where(l => l.StartsWith("orleans_messaging_sent_messages_size", StringComparison.Ordinal) && l.Contains("_count{", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        }

        return total;
    }

    private static (long Throttled, long Periods) Throttling(IReadOnlyList<CpuQuota> quotas) =>
        (quotas.Sum(q => q.Stat("nr_throttled")), quotas.Sum(q => q.Stat("nr_periods")));
}
