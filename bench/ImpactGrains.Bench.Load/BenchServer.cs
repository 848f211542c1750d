using System.Security.Cryptography;
using System.Text;
using ImpactGrains.Testing;

namespace ImpactGrains.Bench;

/// <summary>
/// One ImpactGrains server process under load (through <see cref="ServerProcess"/>), with the settings every benchmark
/// server gets: rate limits off (they would cap the load at 200 writes/s), the Orleans Dashboard off (its per-call
/// filter is measured separately, docs/performance.md), and one admin API key that every request carries.
/// </summary>
public sealed class BenchServer : IAsyncDisposable
{
    /// <summary>
    /// One admin key per run, random (the server only ever sees its SHA-256): the one <see cref="ServerProcess"/> also
    /// sends while it waits for the server to answer.
    /// </summary>
    public static string ApiKey => TestApiKeys.Admin;

    private BenchServer(ServerProcess process)
    {
        Process = process;
        Http = CreateClient(new Uri($"http://127.0.0.1:{process.HttpPort}"));
    }

    public ServerProcess Process { get; }

    public HttpClient Http { get; }

    public static string[] CommonArgs =>
    [
        "--Impact:Limits:Enabled=false", "--Impact:Dashboard:Enabled=false",
        .. TestApiKeys.Entry("bench", "admin", ApiKey),
    ];

    /// <summary>
    /// The PostgreSQL profile on a test database. The tests' connection string waits at most 5 s for a pooled
    /// connection, to fail fast when the database is down; under load a burst of grain activations (each reads its
    /// snapshot on its own connection) can queue longer than that on 2 cores, so the benchmark uses Npgsql's default, 15 s.
    /// </summary>
    public static string[] PostgresArgs(string connectionString) =>
        ["--Impact:Storage=Postgres", $"--ConnectionStrings:Postgres={connectionString.Replace("Timeout=5;", "Timeout=15;", StringComparison.Ordinal)}"];

    public static async Task<BenchServer> StartAsync(params string[] extraArgs) =>
        new(await ServerProcess.StartAsync(demo: false, extraArgs: [.. CommonArgs, .. extraArgs]));

    /// <summary>A server whose process gets <paramref name="environment"/> besides the bench's own.</summary>
    public static async Task<BenchServer> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] extraArgs) =>
        new(await ServerProcess.StartWithEnvironmentAsync(environment, [.. CommonArgs, .. extraArgs]));

    public static HttpClient CreateClient(Uri baseAddress)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = 512 };
        var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return http;
    }

    /// <summary>The server's process id (for /proc).</summary>
    public int FindProcessId() => Process.ProcessId;

    /// <summary>Resident set size in bytes, from /proc.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{FindProcessId()}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>Active grains of one type in this silo, from Orleans' own metric.</summary>
    public Task<long> ActivationsAsync(string grainType) => ServerMetrics.ActivationsAsync(Http, grainType);

    /// <summary>
    /// The live managed heap after the last GC: its size less the free space between objects (fragmentation), from the
    /// Prometheus endpoint.
    /// </summary>
    public async Task<double> LiveHeapBytesAsync() =>
        await ServerMetrics.SumAsync(Http, "dotnet_gc_last_collection_heap_size_bytes") -
        await ServerMetrics.SumAsync(Http, "dotnet_gc_last_collection_heap_fragmentation_size_bytes");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
        Process.DeleteData();
    }
}
