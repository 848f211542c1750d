using System.Diagnostics;
using ImpactGrains.Testing;

namespace ImpactGrains.Bench;

/// <summary>
/// The read paths against the HTTP floor, in one run (#15): the floor (a bare minimal API in its own process,
/// <see cref="FloorServer"/>), then <c>/impact</c>, <c>/explain?limit=10</c> and <c>/leaderboard?limit=10</c>, closed
/// loop, each as a ratio to the floor; then <c>/impact</c> open loop at half its closed-loop rate while ingestion runs
/// at a quarter of its own closed-loop rate. Servers run as configured by default except that the rate limits are
/// sized to the load (their middleware still runs on every request) and the Orleans Dashboard is off; reads carry a
/// read-only key in <c>X-Api-Key</c>.
/// </summary>
public sealed class ReadSet
{
    public Throughput? Floor { get; set; }
    public Throughput? Impact { get; set; }
    public Throughput? Explain { get; set; }
    public Throughput? Leaderboard { get; set; }
    public double IngestMax { get; set; }
    public Throughput? Ingest { get; set; }
    public double ImpactRate { get; set; }
    public Throughput? ImpactAtRate { get; set; }

    public bool Complete => Floor is { Operations: > 0 } && Impact is { Operations: > 0 } && Explain is { Operations: > 0 } &&
                            Leaderboard is { Operations: > 0 } && ImpactAtRate is { Operations: > 0 } && Ingest is { Operations: > 0 };

    public double? TimesFloor(Throughput? t) => t is null || Floor is not { PerSecond: > 0 } ? null : t.PerSecond / Floor.PerSecond;

    /// <summary>Server arguments: the default middleware (rate limits on, at rates this load never reaches) and a read key.</summary>
    public static string[] ServerArgs =>
    [
        "--Impact:Limits:Enabled=true", "--Impact:Limits:ReadsPerSecond=10000000", "--Impact:Limits:ReadBurst=10000000",
        "--Impact:Limits:WritesPerSecond=10000000", "--Impact:Limits:WriteBurst=10000000",
        .. TestApiKeys.Entry("bench_reader", "read", TestApiKeys.Reader),
    ];

    public static async Task<ReadSet> RunAsync(BenchServer[] silos, string runId, BenchOptions options, Action<string> log)
    {
        var set = new ReadSet();
        await using var floor = await FloorServer.StartAsync();
        var readers = silos.Select(s =>
        {
            var http = BenchServer.CreateClient(s.Http.BaseAddress!);
            http.DefaultRequestHeaders.Remove("X-Api-Key");
            http.DefaultRequestHeaders.Add("X-Api-Key", TestApiKeys.Reader);
            return http;
        }).ToArray();
        var writers = silos.Select(s => s.Http).ToArray();
        try
        {
            var phase = options.Seconds / 2;
            string Impact(Random r) => $"/api/entities/{BenchEvents.EntityId(runId, r.Next(options.Entities))}/impact";
            string Explain(Random r) => $"/api/entities/{BenchEvents.EntityId(runId, r.Next(options.Entities))}/explain?limit=10";

            // Warm-up of every path (and of the floor), then floor, the three reads, floor again: the floor is the mean of
            // both, so a drift of the machine during the phases shows in neither side alone. The warm-up lasts until the
            // JIT is quiet on each side, as ingestion's does (a profile after 3 s per path still showed the JIT at a
            // fifth of the server's CPU in the /impact phase).
            int[] pids = [.. silos.Select(s => s.FindProcessId())];
            Func<Random, string>[] paths = [Impact, Explain, _ => "/api/leaderboard?limit=10"];
            // The measured loops read each answer without parsing it (Workloads.GetDrainedAsync): one answer of each path
            // is parsed here, so a path that answers something other than its JSON fails the run instead.
            var sample = new Random(1);
            foreach (var path in paths)
            {
                var answer = await Workloads.GetOkAsync(readers[0], path(sample));
                if (answer.ValueKind != System.Text.Json.JsonValueKind.Object)
                {
                    throw new InvalidOperationException($"{path(sample)} answered {answer.ValueKind}, not an object");
                }
            }

            var (serverWarm, serverJit) = await Throughput.WarmUntilJitQuietAsync(async seconds =>
            {
                foreach (var path in paths)
                {
                    await Workloads.QueryAsync(readers, path, options.QueryWorkers, seconds / paths.Length);
                }
            }, pids, Math.Min(3, phase) * paths.Length, options.Smoke);
            var (floorWarm, floorJit) = await Throughput.WarmUntilJitQuietAsync(
                seconds => Workloads.QueryAsync([floor.Http], _ => FloorServer.Path, options.QueryWorkers, seconds), [floor.ProcessId], Math.Min(3, phase), options.Smoke);
            log($"  warm-up: server {serverWarm.TotalSeconds:0} s (the JIT's last share {serverJit:P1} of a core), floor {floorWarm.TotalSeconds:0} s ({floorJit:P1})");
            // Server CPU per read beside the rates: on a shared machine it moves less than the rate does.
            var floorBefore = await Throughput.WithCpuAsync(() => Workloads.QueryAsync([floor.Http], _ => FloorServer.Path, options.QueryWorkers, phase), [floor.ProcessId]);
            log($"  floor (bare minimal API, own process): {floorBefore.Summary("reads")}");
            set.Impact = await Throughput.WithCpuAsync(() => Workloads.QueryAsync(readers, Impact, options.QueryWorkers, phase), pids);
            log($"  impact: {set.Impact.Summary("reads")}");
            set.Explain = await Throughput.WithCpuAsync(() => Workloads.QueryAsync(readers, Explain, options.QueryWorkers, phase), pids);
            log($"  explain?limit=10: {set.Explain.Summary("reads")}");
            set.Leaderboard = await Throughput.WithCpuAsync(() => Workloads.QueryAsync(readers, _ => "/api/leaderboard?limit=10", options.QueryWorkers, phase), pids);
            log($"  leaderboard?limit=10: {set.Leaderboard.Summary("reads")}");
            var floorAfter = await Throughput.WithCpuAsync(() => Workloads.QueryAsync([floor.Http], _ => FloorServer.Path, options.QueryWorkers, phase), [floor.ProcessId]);
            log($"  floor again: {floorAfter.Summary("reads")}");
            set.Floor = new Throughput((floorBefore.PerSecond + floorAfter.PerSecond) / 2, floorBefore.Latency,
                floorBefore.Operations + floorAfter.Operations, floorBefore.Seconds + floorAfter.Seconds)
            {
                ServerCpuSeconds = floorBefore.ServerCpuSeconds + floorAfter.ServerCpuSeconds,
            };
            log($"  ÷ floor: impact {set.TimesFloor(set.Impact):N2}, explain {set.TimesFloor(set.Explain):N2}, leaderboard {set.TimesFloor(set.Leaderboard):N2}");

            // Ingestion's own closed-loop rate on this server, then a quarter of it beside impact reads at half theirs.
            var max = await Workloads.IngestAsync(writers, runId, options.Entities, skewed: false, options.IngestWorkers, options.BatchSize, phase);
            set.IngestMax = max.PerSecond;
            set.ImpactRate = options.MixedImpactRate > 0 ? options.MixedImpactRate : set.Impact.PerSecond / 2;
            var ingestRate = options.MixedIngestRate > 0 ? options.MixedIngestRate : set.IngestMax / 4;
            log($"  ingestion alone {max.PerSecond:N0} events/s; now {ingestRate:N0} events/s (open loop) beside impact reads at {set.ImpactRate:N0}/s (open loop)");
            var ingest = Workloads.IngestAtRateAsync(writers, runId, options.Entities, ingestRate, options.BatchSize, options.Seconds);
            set.ImpactAtRate = await Workloads.QueryAtRateAsync(readers, Impact, set.ImpactRate, options.Seconds);
            set.Ingest = await ingest;
            log($"  impact under ingestion: {set.ImpactAtRate.Summary("reads")}");
            log($"  ingestion meanwhile: {set.Ingest.Summary("events")}");
            return set;
        }
        finally
        {
            foreach (var reader in readers)
            {
                reader.Dispose();
            }
        }
    }
}
