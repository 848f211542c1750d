using System.Diagnostics;

namespace ImpactGrains.Bench;

/// <summary>Latency samples in milliseconds, gathered per worker and merged; nearest-rank percentiles.</summary>
public sealed class Latencies
{
    private readonly List<double> samples = [];

    public int Count
    {
        get
        {
            lock (samples)
            {
                return samples.Count;
            }
        }
    }

    public void Add(double milliseconds)
    {
        lock (samples)
        {
            samples.Add(milliseconds);
        }
    }

    public void AddSince(long startTimestamp) => Add(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds);

    public void AddRange(IEnumerable<double> values)
    {
        lock (samples)
        {
            samples.AddRange(values);
        }
    }

    public double Percentile(double q)
    {
        lock (samples)
        {
            if (samples.Count == 0)
            {
                return double.NaN;
            }

            var sorted = samples.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
        }
    }

    public string Summary() => Count == 0 ? "no samples" : $"p50 {Percentile(0.5):0.0} ms, p99 {Percentile(0.99):0.0} ms, p99.9 {Percentile(0.999):0.0} ms, n={Count}";
}

/// <summary>What one measured phase produced: operations per second and the latency of each operation.</summary>
public sealed record Throughput(double PerSecond, Latencies Latency, long Operations, double Seconds)
{
    /// <summary>CPU seconds the server processes (every silo) used during the measurement, where measured.</summary>
    public double? ServerCpuSeconds { get; init; }

    /// <summary>CPU seconds the database server (all its processes) used during the measurement, where measured.</summary>
    public double? DatabaseCpuSeconds { get; init; }

    /// <summary>Of <see cref="ServerCpuSeconds"/>, what the runtime's JIT worker used: near 0 once the server is warm.</summary>
    public double? JitCpuSeconds { get; init; }

    /// <summary>Bytes the servers' managed code allocated during the measurement (the runtime's own counter), where measured.</summary>
    public double? AllocatedBytes { get; init; }

    public double? ServerMicrosPerOperation => ServerCpuSeconds / Operations * 1e6;

    public double? AllocatedBytesPerOperation => AllocatedBytes / Operations;

    public double? DatabaseMicrosPerOperation => DatabaseCpuSeconds / Operations * 1e6;

    public string Summary(string unit) =>
        $"{PerSecond:N0} {unit}/s ({Operations:N0} in {Seconds:0.0} s); {Latency.Summary()}" +
        (ServerCpuSeconds is null ? "" : $"; server CPU {ServerMicrosPerOperation:N1} µs each (JIT {JitCpuSeconds / ServerCpuSeconds:P0})") +
        (AllocatedBytes is null ? "" : $", {AllocatedBytesPerOperation / 1024:N2} KiB allocated each") +
        (DatabaseCpuSeconds is null ? "" : $", database CPU {DatabaseMicrosPerOperation:N1} µs each");

    /// <summary>Runs a measurement and charges it the CPU that the given server and database processes used meanwhile.</summary>
    public static async Task<Throughput> WithCpuAsync(Func<Task<Throughput>> run, IReadOnlyList<int> serverPids, int? databasePid = null, IReadOnlyList<HttpClient>? metrics = null)
    {
        // The metrics endpoint answers from a cache refreshed about every second: the window it sees is shifted, not shortened.
        async Task<double?> Allocated() => metrics is null ? null : (await Task.WhenAll(metrics.Select(http => Testing.ServerMetrics.SumAsync(http, "dotnet_gc_heap_total_allocated_bytes_total")))).Sum();
        var allocated = await Allocated();
        double Servers() => serverPids.Sum(Testing.ProcessCpu.Seconds);
        double Database() => databasePid is { } pid ? Testing.ProcessCpu.TreeSeconds(pid) : 0;
        var (server, database, jit) = (Servers(), Database(), JitThreads(serverPids));
        var result = await run();
        return result with
        {
            ServerCpuSeconds = serverPids.Count > 0 ? Servers() - server : null,
            JitCpuSeconds = serverPids.Count > 0 ? JitSecondsSince(jit, serverPids) : null,
            AllocatedBytes = await Allocated() - allocated,
            DatabaseCpuSeconds = databasePid is null ? null : Database() - database,
        };
    }

    /// <summary>
    /// Runs <paramref name="work"/> (given the seconds to run) for at least <paramref name="minSeconds"/>, then in 5 s
    /// windows until the servers' JIT workers used under 2% of a core each over one (tiering comes in bursts, and 2 s
    /// windows were fooled by a lull), for at most two minutes in all. Tiered compilation (with dynamic PGO, hot
    /// methods are compiled twice more) still took a fifth of a server's CPU 20 s after its start on 2 cores: start-up,
    /// not what an operation costs a running server. Returns the time it took and the JIT's share in the last window.
    /// </summary>
    public static async Task<(TimeSpan Elapsed, double JitShare)> WarmUntilJitQuietAsync(Func<double, Task> work, IReadOnlyList<int> serverPids, double minSeconds, bool smoke)
    {
        var watch = Stopwatch.StartNew();
        await work(minSeconds);
        var share = double.NaN;
        while (!smoke && watch.Elapsed < TimeSpan.FromMinutes(2))
        {
            var jit = JitThreads(serverPids);
            var step = Stopwatch.StartNew();
            await work(5);
            share = JitSecondsSince(jit, serverPids) / step.Elapsed.TotalSeconds / serverPids.Count;
            if (share < 0.02)
            {
                break;
            }
        }

        return (watch.Elapsed, share);
    }

    /// <summary>CPU seconds the servers' JIT workers (tiered compilation) have used so far, by process and thread.</summary>
    public static IReadOnlyDictionary<(int Pid, int Thread), double> JitThreads(IReadOnlyList<int> serverPids) =>
        serverPids.SelectMany(pid => Testing.ProcessCpu.ThreadSeconds(pid, ".NET Tiered Com").Select(t => (Key: (pid, t.Key), t.Value)))
            .ToDictionary(t => t.Key, t => t.Value);

    /// <summary>
    /// CPU seconds the JIT workers used since <paramref name="start"/>: a worker that ended meanwhile (the runtime stops
    /// an idle one) loses its last moments rather than taking back everything it ever used.
    /// </summary>
    public static double JitSecondsSince(IReadOnlyDictionary<(int Pid, int Thread), double> start, IReadOnlyList<int> serverPids) =>
        JitThreads(serverPids).Sum(t => t.Value - start.GetValueOrDefault(t.Key));
}
