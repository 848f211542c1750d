using System.Globalization;
using System.Text;

namespace ImpactGrains.Bench;

/// <summary>The targets of the open issues (#13 ingestion, #7 and later for the rest), for this 2-core machine.</summary>
public static class Targets
{
    public const double EmbeddedTimesNaive = 15;
    public const double PostgresTimesNaive = 10;
    public const double EmbeddedCpuMicrosPerEvent = 10;
    public const double PostgresCpuMicrosPerEvent = 20;
    public const double HotTimesUniform = 0.8;
    public const double ImpactReadsPerSecond = 30_000;

    // Reads (#15): each read path against the HTTP floor (a bare minimal API), same run.
    public const double ReadsTimesFloor = 0.6;
    public const double ImpactP99Milliseconds = 5;
    public const double ScoreFreshnessP99Milliseconds = 100;
    public const double LiveFreshnessP99Milliseconds = 1000;
    public const double BytesPerIdleEntity = 2048;
    public const double RegistrationsPerSecond = 20_000;
    public const double RecoverySeconds = 10;

    // One entity with a long history (#14).
    public const double HistoryGrowthMiB = 100;
    public const double HistoryExplainP99Milliseconds = 20;
    public const double HistoryPointsP99Milliseconds = 50;
    public const double SnapshotMiB = 1;

    // The NATS feed (#17).
    public const double FeedTimesHttp = 0.8;

    // Scale-out under equal CPU quotas (#16).
    public const double FourSilosTimesOne = 3.2;
    public const double EightSilosTimesOne = 5.6;
    public const double CpuPerEventGrowth = 1.25;
    public const double FailoverRecoverySeconds = 15;
}

/// <summary>Everything one run measured, rendered as the Markdown tables of docs/performance.md.</summary>
public sealed class Report(BenchOptions options)
{
    private readonly List<(string Name, double MeanNs, double Bytes)> micro = [];

    public Throughput? Ceiling { get; set; }
    public Throughput? EmbeddedUniform { get; set; }
    public Throughput? EmbeddedSkewed { get; set; }
    public Throughput? EmbeddedHot { get; set; }
    public Throughput? PostgresHot { get; set; }
    public Throughput? Impact { get; set; }
    public Throughput? Explain { get; set; }
    public Throughput? Leaderboard { get; set; }
    public double ImpactRate { get; set; }
    public Throughput? ImpactAtRate { get; set; }
    public Throughput? MixedIngest { get; set; }
    public Throughput? MixedReads { get; set; }
    public Freshness? Freshness { get; set; }
    public long RecoveryEvents { get; set; }
    public double? RecoverySeconds { get; set; }
    /// <summary>Per idle entity whose grain is still active (one event each, no calls for seconds).</summary>
    public MemoryFigures? MemoryActive { get; set; }

    /// <summary>Per idle entity once its grain has been collected (<c>Impact:Entities:IdleAfter</c>).</summary>
    public MemoryFigures? MemoryCollected { get; set; }
    public History? History { get; set; }
    public Throughput? FeedHttp { get; set; }
    public Throughput? Feed { get; set; }
    public double? RegistrationPerSecond { get; set; }

    /// <summary>The memory phase's first event to each entity: a cold activation each.</summary>
    public double? FirstEventsPerSecond { get; set; }

    /// <summary>Queries once the memory phase's entities are registered, scored and idle.</summary>
    public Throughput? ManyLeaderboard { get; set; }

    public Throughput? ManySearch { get; set; }

    public Throughput? ManyIdleImpact { get; set; }
    public Throughput? Naive { get; set; }
    public Throughput? PostgresImpact { get; set; }
    public Throughput? Postgres { get; set; }
    public double SiloCores { get; set; }
    public SortedDictionary<int, ScaleOut.Run> ScaleOut { get; } = [];
    public ScaleOut.Failover? Failover { get; set; }

    /// <summary>One silo measured again after the larger clusters; the ratios divide by the mean of both one-silo runs.</summary>
    public ScaleOut.Run? ScaleOutOneAgain { get; set; }

    /// <summary>The one-silo figures every scale-out ratio divides by: the mean of the runs before and after the others.</summary>
    private (double EventsPerSecond, double MicrosPerEvent, double ReadsPerSecond)? ScaleOutBaseline()
    {
        if (!ScaleOut.TryGetValue(1, out var first))
        {
            return null;
        }

        var runs = ScaleOutOneAgain is { } again ? new[] { first, again } : [first];
        return (runs.Average(r => r.Result.PerSecond), runs.Average(r => r.Result.ServerMicrosPerOperation ?? double.NaN), runs.Average(r => r.ReadsPerSecond));
    }

    /// <summary>The read paths against the floor, embedded profile (#15).</summary>
    public ReadSet? Reads { get; set; }

    /// <summary>The same on the PostgreSQL profile, 2 silos, reads spread over both.</summary>
    public ReadSet? PostgresReads { get; set; }
    public SortedDictionary<int, string> ScaleOutFailures { get; } = [];

    /// <summary>Whether every part that was asked for produced its figures (timings are never judged here).</summary>
    public bool Complete =>
        (!options.Runs("ceiling") || Ceiling is { Operations: > 0 }) &&
        (!options.Runs("embedded") || (EmbeddedUniform is { Operations: > 0 } && EmbeddedSkewed is { Operations: > 0 } && EmbeddedHot is { Operations: > 0 } && Impact is { Operations: > 0 } &&
                                       Explain is { Operations: > 0 } && Leaderboard is { Operations: > 0 } && ImpactAtRate is { Operations: > 0 } &&
                                       MixedIngest is { Operations: > 0 } && Freshness is { ToScore.Count: > 0, ToLeaderboard.Count: > 0, ToStream.Count: > 0 } &&
                                       RecoverySeconds is not null)) &&
        (!options.Runs("reads") || Reads is { Complete: true }) &&
        (!options.Runs("reads-postgres") || PostgresReads is { Complete: true }) &&
        (!options.Runs("memory") || (MemoryActive is not null && MemoryCollected is not null && ManyLeaderboard is not null && ManySearch is not null && ManyIdleImpact is not null)) &&
        (!options.Runs("history") || History is { RestartSeconds: not null, HistoryPoints.Operations: > 0 }) &&
        (!options.Runs("feed") || (FeedHttp is { Operations: > 0 } && Feed is { Operations: > 0 })) &&
        (!options.Runs("postgres") || (Naive is { Operations: > 0 } && Postgres is { Operations: > 0 } && PostgresHot is { Operations: > 0 })) &&
        (!options.Runs("scale-out") || (options.Silos.All(n => (ScaleOut.TryGetValue(n, out var t) && t.Result.Operations > 0) || ScaleOutFailures.ContainsKey(n)) &&
                                        (options.FailoverSilos < 2 || Failover is { Acknowledged: > 0 }))) &&
        (options.MicroFile.Length == 0 || micro.Count == 8);

    public void ReadMicro(string file)
    {
        if (file.Length == 0 || !File.Exists(file))
        {
            return;
        }

        foreach (var fields in File.ReadAllLines(file).Select(l => l.Split('\t')).Where(f => f.Length == 3))
        {
            micro.Add((fields[0], double.Parse(fields[1], CultureInfo.InvariantCulture), double.Parse(fields[2], CultureInfo.InvariantCulture)));
        }
    }

    public string Render(TimeSpan elapsed)
    {
        var s = new StringBuilder();
        var postgres = Postgres;
        s.AppendLine(F($"Suite: {(options.Smoke ? "smoke" : "full")} mode, {options.Seconds} s per phase, {options.Entities:N0} entities, batches of {options.BatchSize:N0}, {Environment.ProcessorCount} cores, {elapsed.TotalMinutes:0.0} min in all."));
        s.AppendLine();
        s.AppendLine("| target | measured | target | ratio (≥ 1 is met) | met |");
        s.AppendLine("|---|---|---|---|---|");
        AtLeast("durable ingestion, embedded ÷ naive PostgreSQL (×)", Ratio(EmbeddedUniform, Naive), Targets.EmbeddedTimesNaive, "N1");
        AtLeast("durable ingestion, PostgreSQL profile, 1 silo ÷ naive PostgreSQL (×)", Ratio(postgres, Naive), Targets.PostgresTimesNaive, "N1");
        AtMost("server CPU per accepted event, embedded (µs)", EmbeddedUniform?.ServerMicrosPerOperation, Targets.EmbeddedCpuMicrosPerEvent, "N1");
        AtMost(F($"server CPU per accepted event, PostgreSQL (µs; the database's own: {postgres?.DatabaseMicrosPerOperation:N1} µs)"), postgres?.ServerMicrosPerOperation, Targets.PostgresCpuMicrosPerEvent, "N1");
        AtLeast("hot entity (every event to one) ÷ uniform, embedded (×)", Ratio(EmbeddedHot, EmbeddedUniform), Targets.HotTimesUniform, "N2");
        AtLeast("hot entity ÷ uniform, PostgreSQL (×)", Ratio(PostgresHot, postgres), Targets.HotTimesUniform, "N2");
        foreach (var (profile, reads) in new[] { ("embedded", Reads), ("PostgreSQL, 2 silos", PostgresReads) })
        {
            if (reads is null)
            {
                continue;
            }

            AtLeast(F($"/impact ÷ floor, {profile} (×)"), reads.TimesFloor(reads.Impact), Targets.ReadsTimesFloor, "N2");
            AtLeast(F($"/explain?limit=10 ÷ floor, {profile} (×)"), reads.TimesFloor(reads.Explain), Targets.ReadsTimesFloor, "N2");
            AtLeast(F($"/leaderboard?limit=10 ÷ floor, {profile} (×)"), reads.TimesFloor(reads.Leaderboard), Targets.ReadsTimesFloor, "N2");
            AtMost(F($"/impact p99 at {reads.ImpactRate:N0}/s (half its maximum), open loop, ingestion at {reads.IngestMax / 4:N0} events/s (a quarter of its maximum), {profile} (ms)"),
                reads.ImpactAtRate?.Latency.Percentile(0.99), Targets.ImpactP99Milliseconds, "N1");
        }

        AtMost("freshness p99, acknowledged → /impact (ms)", Freshness?.ToScore.Percentile(0.99), Targets.ScoreFreshnessP99Milliseconds, "N1");
        AtMost("freshness p99, acknowledged → leaderboard (ms)", Freshness?.ToLeaderboard.Percentile(0.99), Targets.LiveFreshnessP99Milliseconds, "N0");
        AtMost("freshness p99, acknowledged → stream (ms)", Freshness?.ToStream.Percentile(0.99), Targets.LiveFreshnessP99Milliseconds, "N0");
        AtMost(F($"memory per idle entity, grain collected, {options.MemoryEntities:N0} entities, live heap (bytes)"), MemoryCollected?.HeapBytes, Targets.BytesPerIdleEntity, "N0");
        // An entity is idle once its grain is collected (Impact:Entities:IdleAfter); the figure while its grain is still
        // active, most of it Orleans' own activation, is reported below the tables, not held to the idle target.
        AtLeast("bulk registration, PUT /api/entities (entities/s)", RegistrationPerSecond, Targets.RegistrationsPerSecond, "N0");
        AtLeast("NATS feed ÷ HTTP ingestion, same server and events (×)", Ratio(Feed, FeedHttp), Targets.FeedTimesHttp, "N2");
        AtMost(F($"restart after kill -9 over {RecoveryEvents:N0} logged events → first query (s)"), RecoverySeconds, Targets.RecoverySeconds, "N2");
        if (History is { } h)
        {
            var last = h.Events - h.Events / 5;
            AtMost(F($"one entity, {h.Events:N0} events: live heap growth over the last {last:N0} (MiB)"), h.Growth?.HeapBytes / 1048576, Targets.HistoryGrowthMiB, "N1");
            AtMost("one entity: /impact p99, the entity (ms)", h.EntityImpact?.Latency.Percentile(0.99), Targets.ImpactP99Milliseconds, "N1");
            AtMost("one entity: /impact p99, the person linked to it (ms)", h.PersonImpact?.Latency.Percentile(0.99), Targets.ImpactP99Milliseconds, "N1");
            AtMost("one entity: /explain?limit=10 p99 (ms)", h.Explain?.Latency.Percentile(0.99), Targets.HistoryExplainP99Milliseconds, "N1");
            AtMost("one entity: /history, 200 points over its whole range, p99 (ms)", h.HistoryPoints?.Latency.Percentile(0.99), Targets.HistoryPointsP99Milliseconds, "N1");
            AtMost("one entity: its snapshot (MiB)", h.SnapshotBytes / 1048576.0, Targets.SnapshotMiB, "N3");
            AtMost(F($"one entity: restart after kill -9 over {h.Events:N0} events → its first answer (s)"), h.RestartSeconds, Targets.RecoverySeconds, "N2");
            AtLeast("one entity: ingestion, batches of 5,000 in order ÷ uniform over many (×)", Ratio(h.Ingestion, EmbeddedUniform), Targets.HotTimesUniform, "N2");
        }

        if (ScaleOutBaseline() is { } single)
        {
            var quota = SiloCores > 0 ? F($"each silo held to {SiloCores:0.##} of a core") : "no CPU quotas";
            foreach (var (silos, target) in new[] { (4, Targets.FourSilosTimesOne), (8, Targets.EightSilosTimesOne) })
            {
                if (ScaleOut.TryGetValue(silos, out var run))
                {
                    AtLeast(F($"scale-out: {silos} silos ÷ 1 silo, ingestion, {quota} (×)"), run.Result.PerSecond / single.EventsPerSecond, target, "N2");
                    AtLeast(F($"scale-out: {silos} silos ÷ 1 silo, /impact reads over every silo (×)"), run.ReadsPerSecond / single.ReadsPerSecond, target, "N2");
                    AtMost(F($"scale-out: server CPU per event, {silos} silos ÷ 1 silo (×)"), run.Result.ServerMicrosPerOperation / single.MicrosPerEvent, Targets.CpuPerEventGrowth, "N2");
                }
            }
        }

        if (Failover is { } fail)
        {
            AtMost(F($"failover: kill -9 of 1 of {fail.Silos} silos under load → back to ≥ 0.7 of the rate for good (s)"), fail.RecoverySeconds ?? double.PositiveInfinity, Targets.FailoverRecoverySeconds, "N0");
            AtMost("failover: events lost or doubled", Math.Abs(fail.Acknowledged - fail.Logged) + (fail.Logged - fail.LoggedDistinct), 0, "N0");
        }

        s.AppendLine();

        s.AppendLine("Peers and profiles, same run, same machine:");
        s.AppendLine();
        s.AppendLine("| system | throughput | latency p50 / p99 / p99.9 (ms) | CPU µs per event: server / database | ours ÷ this |");
        s.AppendLine("|---|---|---|---|---|");
        Row("ours, embedded (SQLite), uniform", EmbeddedUniform, "events/s", "per batch", null);
        Row("ours, embedded, skewed (1% of entities get half)", EmbeddedSkewed, "events/s", "per batch", null);
        Row("ours, embedded, hot (every event to one entity)", EmbeddedHot, "events/s", "per batch", null);
        Row("ours, PostgreSQL, 1 silo", Postgres, "events/s", "per batch", null);
        Row("ours, PostgreSQL, 1 silo, hot (every event to one entity)", PostgresHot, "events/s", "per batch", null);

        Row(F($"naive PostgreSQL: 1 transaction per event, {options.NaiveConnections} connections"), Naive, "events/s", "per event",
            F($"embedded {Ratio(EmbeddedUniform, Naive):N1}×, PostgreSQL {Ratio(postgres, Naive):N1}×"));
        Row("ceiling: bare Orleans grain call (empty method, in-process client)", Ceiling, "calls/s", "", null);
        Row("ours, embedded, HTTP beside the feed (fresh server with the feed on)", FeedHttp, "events/s", "per batch", null);
        Row("ours, embedded, NATS JetStream feed, same events (latency: publish acknowledged)", Feed, "events/s", "per message", F($"÷ HTTP {Ratio(Feed, FeedHttp):N2}×"));
        s.AppendLine();

        s.AppendLine("Queries (embedded unless named):");
        s.AppendLine();
        s.AppendLine("| workload | throughput | latency p50 / p99 / p99.9 (ms) |");
        s.AppendLine("|---|---|---|");
        Query(F($"impact, closed loop, {options.QueryWorkers} clients"), Impact);
        Query(F($"impact, open loop at {ImpactRate:N0}/s"), ImpactAtRate);
        Query("explain (limit 10), closed loop", Explain);
        Query("leaderboard (limit 10), closed loop", Leaderboard);
        Query("impact on PostgreSQL profile, 1 silo, closed loop", PostgresImpact);
        foreach (var (profile, reads) in new[] { ("embedded", Reads), ("PostgreSQL, 2 silos", PostgresReads) })
        {
            if (reads is null)
            {
                continue;
            }

            Query(F($"reads, {profile}, keys and limits on: the floor, a bare minimal API (mean of before and after; {Micros(reads.Floor?.ServerMicrosPerOperation)} µs of its CPU per read)"), reads.Floor);
            Query(F($"reads, {profile}: /impact ({reads.TimesFloor(reads.Impact):N2}× the floor; {Micros(reads.Impact?.ServerMicrosPerOperation)} µs of server CPU per read)"), reads.Impact);
            Query(F($"reads, {profile}: /explain?limit=10 ({reads.TimesFloor(reads.Explain):N2}× the floor; {Micros(reads.Explain?.ServerMicrosPerOperation)} µs)"), reads.Explain);
            Query(F($"reads, {profile}: /leaderboard?limit=10 ({reads.TimesFloor(reads.Leaderboard):N2}× the floor; {Micros(reads.Leaderboard?.ServerMicrosPerOperation)} µs)"), reads.Leaderboard);
            Query(F($"reads, {profile}: /impact open loop at {reads.ImpactRate:N0}/s under ingestion"), reads.ImpactAtRate);
            Query(F($"reads, {profile}: ingestion meanwhile, open loop at {reads.IngestMax / 4:N0} events/s"), reads.Ingest);
        }

        Query(F($"mixed: ingestion ({options.MixedIngestWorkers} clients), events/s"), MixedIngest);
        Query(F($"mixed: impact reads ({options.QueryWorkers / 2} clients) at the same time"), MixedReads);
        if (Freshness is { } f)
        {
            s.AppendLine(F($"| freshness during the mixed load: acknowledged → /impact ({f.ToScore.Count} probes) | | {Percentiles(f.ToScore)} |"));
            s.AppendLine(F($"| acknowledged → leaderboard top ({f.ToLeaderboard.Count} probes) | | {Percentiles(f.ToLeaderboard)} |"));
            s.AppendLine(F($"| acknowledged → stream score event ({f.ToStream.Count} probes) | | {Percentiles(f.ToStream)} |"));
            if (f.TimedOut.Count > 0)
            {
                s.AppendLine(F($"| probes that gave up after {Freshness.GiveUp.TotalSeconds:0} s (counted at that time) | | {string.Join(", ", f.TimedOut.GroupBy(w => w).Select(g => $"{g.Key}: {g.Count()}"))} |"));
            }
        }

        if (History is { } history)
        {
            s.AppendLine();
            s.AppendLine(F($"One entity with a long history: {history.Events:N0} outage events, 50 ms apart, in batches of 5,000 posted in order; a person linked to it (weight 0.5):"));
            s.AppendLine();
            s.AppendLine("| measure | figure |");
            s.AppendLine("|---|---|");
            s.AppendLine(F($"| ingestion of the last 80% | {history.Ingestion?.PerSecond:N0} events/s, {Micros(history.Ingestion?.ServerMicrosPerOperation)} µs of server CPU per event |"));
            s.AppendLine(F($"| growth over the last 80%: live heap / resident | {history.Growth?.HeapBytes / 1048576:N1} / {history.Growth?.ResidentBytes / 1048576:N1} MiB |"));
            QueryRow("| /impact, the entity", history.EntityImpact);
            QueryRow("| /impact, the person", history.PersonImpact);
            QueryRow("| /explain?limit=10", history.Explain);
            QueryRow("| /history, 200 points over the range, the entity", history.HistoryPoints);
            QueryRow("| /history, 200 points, the person", history.PersonHistoryPoints);
            QueryRow("| /history, 200 points moved by a random part of a step per request (other intervals each time), the entity", history.ShiftedHistoryPoints);
            s.AppendLine(F($"| largest snapshot / all timeline chunks | {history.SnapshotBytes:N0} bytes / {history.ChunkBytes / 1048576.0:N1} MiB |"));
            s.AppendLine(F($"| restart after kill -9 → the entity's first answer | {history.RestartSeconds:N2} s |"));
        }

        if (MemoryActive is { } active && MemoryCollected is { } collected)
        {
            s.AppendLine();
            s.AppendLine(F($"Memory per idle entity ({options.MemoryEntities:N0} entities, one event each; live heap after an induced full collection): grain still active {active}; grain collected {collected}. The first event to each, a cold activation each: {FirstEventsPerSecond:N0} entities/s. Among them, {options.QueryWorkers} clients:"));
            s.AppendLine();
            s.AppendLine("| workload | throughput | latency p50 / p99 / p99.9 (ms) |");
            s.AppendLine("|---|---|---|");
            Query("leaderboard (limit 10)", ManyLeaderboard);
            Query("search by name (`q=`, limit 20)", ManySearch);
            Query("impact of a random idle entity (its grain activated again)", ManyIdleImpact);
        }

        if (ScaleOut.Count + ScaleOutFailures.Count > 0)
        {
            var one = ScaleOutBaseline();
            s.AppendLine();
            s.AppendLine(SiloCores > 0
                ? F($"Scale-out: N silo processes of the PostgreSQL profile on one PostgreSQL, each silo held to {SiloCores:0.##} of a core (cgroup CPU quota, {string.Join(", ", ImpactGrains.Bench.ScaleOut.SiloEnvironment(SiloCores).Select(v => $"{v.Key}={v.Value}"))}), ingestion and /impact reads spread over every silo:")
                : "Scale-out: N silo processes of the PostgreSQL profile on one PostgreSQL, all sharing this machine's cores (no quotas here, so this shows overhead, not scaling):");
            s.AppendLine();
            s.AppendLine("| silos | events/s | ÷ 1 silo | CPU µs per event: silos / database | remote messages per event | quota binding | CPU per silo after the set-up, idle (cores) | /impact reads/s | ÷ 1 silo | reads: silo CPU µs each / remote messages each / quota binding |");
            s.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
            string ScaleRow(string silos, ScaleOut.Run run) =>
                F($"| {silos} | {run.Result.PerSecond:N0} | {run.Result.PerSecond / one?.EventsPerSecond:N2} | {Micros(run.Result.ServerMicrosPerOperation)} / {Micros(run.Result.DatabaseMicrosPerOperation)} | {run.RemoteMessagesPerEvent:N3} | {run.ThrottledShare:P0} of periods | {run.IdleCoresPerSilo:N3} | {run.ReadsPerSecond:N0} | {run.ReadsPerSecond / one?.ReadsPerSecond:N2} | {Micros(run.ReadMicros)} / {run.RemoteMessagesPerRead:N2} / {run.ReadThrottledShare:P0} |");
            foreach (var silos in ScaleOut.Keys.Union(ScaleOutFailures.Keys).Order())
            {
                s.AppendLine(ScaleOut.TryGetValue(silos, out var run)
                    ? ScaleRow(F($"{silos}"), run)
                    : F($"| {silos} | failed: {ScaleOutFailures[silos]} | – | – | – | – | – | – | – | – |"));
            }

            if (ScaleOutOneAgain is { } again)
            {
                s.AppendLine(ScaleRow("1, again after the others", again));
                s.AppendLine();
                s.AppendLine("Every ÷ 1 silo divides by the mean of the two one-silo runs.");
            }

            if (Failover is { } killed)
            {
                s.AppendLine();
                s.AppendLine(F($"Failover: {killed.Silos} silos under the same quotas and load, the last one killed (kill -9) a third of the way in: {killed.RateBefore:N0} events/s before, {killed.RateAfter:N0} over the last third; first back at 0.7 of the rate (a 3-second window) {(killed.FirstBackSeconds is { } b ? F($"{b:0} s after the kill") : "never")}, and for good (every window to the end) {(killed.RecoverySeconds is { } r ? F($"{r:0} s after it") : "never")} (before the kill {killed.WindowsBelowBeforeKill.Below} of {killed.WindowsBelowBeforeKill.Windows} 3-second windows were already under 0.7 of it); {killed.Acknowledged:N0} event ids acknowledged, {killed.Logged:N0} rows of them in the log ({killed.LoggedDistinct:N0} distinct)."));
            }
        }

        if (micro.Count > 0)
        {
            s.AppendLine();
            s.AppendLine(F($"Micro-benchmarks (BenchmarkDotNet, in-process, {(options.Smoke ? "one dry run each: not a measurement" : "short job")}), one batch of 1,000 events (ImpactNow and ExplainNow: one query over an entity holding that batch):"));
            s.AppendLine();
            s.AppendLine("| benchmark | mean per batch (µs) | per event (ns) | allocated per batch (KiB) |");
            s.AppendLine("|---|---|---|---|");
            foreach (var (name, meanNs, bytes) in micro)
            {
                s.AppendLine(F($"| {name} | {meanNs / 1000:N1} | {meanNs / 1000:N0} | {bytes / 1024:N1} |"));
            }
        }

        return s.ToString();

        void AtLeast(string name, double? measured, double target, string format) =>
            s.AppendLine(measured is { } m && !double.IsNaN(m)
                ? F($"| {name} | {m.ToString(format, CultureInfo.InvariantCulture)} | ≥ {target.ToString(format, CultureInfo.InvariantCulture)} | {m / target:N2} | {(m >= target ? "yes" : "**no**")} |")
                : $"| {name} | – | ≥ {target.ToString(format, CultureInfo.InvariantCulture)} | – | not measured |");

        void AtMost(string name, double? measured, double target, string format) =>
            s.AppendLine(measured is { } m && !double.IsNaN(m)
                ? F($"| {name} | {m.ToString(format, CultureInfo.InvariantCulture)} | ≤ {target.ToString(format, CultureInfo.InvariantCulture)} | {(m <= 0 ? double.PositiveInfinity : target / m):N2} | {(m <= target ? "yes" : "**no**")} |")
                : $"| {name} | – | ≤ {target.ToString(format, CultureInfo.InvariantCulture)} | – | not measured |");

        void Row(string name, Throughput? t, string unit, string per, string? ratio) =>
            s.AppendLine(t is null
                ? $"| {name} | – | – | – | – |"
                : F($"| {name} | {t.PerSecond:N0} {unit} | {(t.Latency.Count == 0 ? "–" : Percentiles(t.Latency) + " " + per)} | {Micros(t.ServerMicrosPerOperation)} / {Micros(t.DatabaseMicrosPerOperation)} | {ratio ?? ""} |"));

        static string Micros(double? value) => value is { } v ? v.ToString("N1", CultureInfo.InvariantCulture) : "–";

        void QueryRow(string name, Throughput? t) =>
            s.AppendLine(t is null ? $"{name} | – |" : F($"{name} | {t.PerSecond:N0}/s, one client; p50 / p99 / p99.9 {Percentiles(t.Latency)} ms |"));

        void Query(string name, Throughput? t) =>
            s.AppendLine(t is null ? $"| {name} | – | – |" : F($"| {name} | {t.PerSecond:N0}/s | {Percentiles(t.Latency)} |"));
    }

    private static double? Ratio(Throughput? ours, Throughput? peer) => ours is null || peer is null || peer.PerSecond == 0 ? null : ours.PerSecond / peer.PerSecond;

    private static string Percentiles(Latencies l) => l.Count == 0 ? "–" : F($"{l.Percentile(0.5):N1} / {l.Percentile(0.99):N1} / {l.Percentile(0.999):N1}");

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Resident memory and the live managed heap, in bytes (or per entity, once divided).</summary>
public readonly record struct MemoryFigures(double ResidentBytes, double HeapBytes)
{
    public static MemoryFigures operator -(MemoryFigures a, MemoryFigures b) => new(a.ResidentBytes - b.ResidentBytes, a.HeapBytes - b.HeapBytes);

    public static MemoryFigures operator /(MemoryFigures a, int n) => new(a.ResidentBytes / n, a.HeapBytes / n);

    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{HeapBytes:N0} B of live heap, {ResidentBytes:N0} B of resident memory");
}
