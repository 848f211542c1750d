using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace ImpactGrains.Bench;

/// <summary>
/// One entity with a long history (issue #14): every event to one company, with one person linked to it, on a fresh
/// embedded server. Measures what must not grow with the history: the live heap over the last 80% of the events, each
/// query's latency on the entity and on the person, the snapshot's size, and the restart after kill -9.
/// </summary>
public sealed class History
{
    public const int BatchSize = 5000;

    public long Events { get; private set; }

    /// <summary>Ingestion of the last 80% of the events (with the server's CPU per event).</summary>
    public Throughput? Ingestion { get; private set; }

    /// <summary>The live heap and resident memory after the last 80% of the events, less before them.</summary>
    public MemoryFigures? Growth { get; private set; }

    public Throughput? EntityImpact { get; private set; }

    public Throughput? PersonImpact { get; private set; }

    public Throughput? Explain { get; private set; }

    public Throughput? HistoryPoints { get; private set; }

    public Throughput? PersonHistoryPoints { get; private set; }

    /// <summary>
    /// The same 200 points, moved by a random fraction of a step on every request: they fall in other intervals each
    /// time, so what the timeline keeps for a repeated /history (interval slices, per-chunk totals) rarely serves.
    /// </summary>
    public Throughput? ShiftedHistoryPoints { get; private set; }

    /// <summary>The largest grain snapshot in the store (the entity's), in bytes.</summary>
    public long SnapshotBytes { get; private set; }

    /// <summary>Every stored timeline chunk of the run, in bytes (the sealed past; never read whole).</summary>
    public long ChunkBytes { get; private set; }

    public double? RestartSeconds { get; private set; }

    public static async Task<History> RunAsync(
        string runId, long events, double querySeconds, Func<BenchServer, Task<MemoryFigures>> memoryNow, Action<string> log)
    {
        var result = new History { Events = events };
        await using var server = await BenchServer.StartAsync();
        var company = BenchEvents.EntityId(runId, 0);
        var person = BenchEvents.EntityId(runId, 1);
        await Workloads.CheckAsync(await server.Http.PutAsync($"/api/entities/{company}", Workloads.Json($$"""{"name":"History company","kind":"company"}""")));
        await Workloads.CheckAsync(await server.Http.PutAsync($"/api/entities/{person}", Workloads.Json($$"""{"name":"History person","kind":"person"}""")));
        await Workloads.CheckAsync(await server.Http.PutAsync("/api/links", Workloads.Json($$"""{"from":"{{company}}","to":"{{person}}","weight":0.5,"relation":"owner"}""")));
        var pid = server.FindProcessId();
        var origin = DateTimeOffset.UtcNow - Spacing * events - TimeSpan.FromMinutes(1);

        var first = events / 5;
        await IngestAsync(server, runId, company, 0, first, origin);
        var before = await memoryNow(server);
        log($"  {first:N0} events in; live heap {before.HeapBytes / 1048576:N0} MiB, resident {before.ResidentBytes / 1048576:N0} MiB");
        result.Ingestion = await Throughput.WithCpuAsync(() => IngestAsync(server, runId, company, first, events - first, origin), [pid]);
        log($"  the other {events - first:N0}: {result.Ingestion.Summary("events")}");
        var after = await memoryNow(server);
        result.Growth = after - before;
        log($"  growth over the last {events - first:N0} events: {result.Growth.Value.HeapBytes / 1048576:N1} MiB of live heap, {result.Growth.Value.ResidentBytes / 1048576:N1} MiB resident");

        // Queries, closed loop. The history asks for 200 points over the whole range the events span.
        var span = Spacing * events;
        var step = Math.Max(1, Math.Floor(span.TotalSeconds / 199));
        var range = System.FormattableString.Invariant($"from={Uri.EscapeDataString(origin.ToString("O"))}&to={Uri.EscapeDataString((origin + TimeSpan.FromSeconds(step * 199)).ToString("O"))}&step=PT{step}S");
        const int clients = 1; // one request at a time, as issue #14 measured: the latency of a query, not of a queue on one grain
        result.EntityImpact = await Workloads.QueryAsync(server.Http, _ => $"/api/entities/{company}/impact", clients, querySeconds);
        log($"  impact, the entity: {result.EntityImpact.Summary("reads")}");
        result.PersonImpact = await Workloads.QueryAsync(server.Http, _ => $"/api/entities/{person}/impact", clients, querySeconds);
        log($"  impact, the linked person: {result.PersonImpact.Summary("reads")}");
        result.Explain = await Workloads.QueryAsync(server.Http, _ => $"/api/entities/{company}/explain?limit=10", clients, querySeconds);
        log($"  explain (limit 10): {result.Explain.Summary("reads")}");
        result.HistoryPoints = await Workloads.QueryAsync(server.Http, _ => $"/api/entities/{company}/history?{range}", clients, querySeconds);
        log($"  history (200 points over the events' range): {result.HistoryPoints.Summary("reads")}");
        result.PersonHistoryPoints = await Workloads.QueryAsync(server.Http, _ => $"/api/entities/{person}/history?{range}", clients, querySeconds);
        log($"  history of the person: {result.PersonHistoryPoints.Summary("reads")}");
        string Shifted(Random random)
        {
            var from = origin + TimeSpan.FromSeconds(Math.Floor(random.NextDouble() * step));
            return System.FormattableString.Invariant($"from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString((from + TimeSpan.FromSeconds(step * 199)).ToString("O"))}&step=PT{step}S");
        }

        result.ShiftedHistoryPoints = await Workloads.QueryAsync(server.Http, random => $"/api/entities/{company}/history?{Shifted(random)}", clients, querySeconds);
        log($"  history, 200 points moved by a random part of a step each time: {result.ShiftedHistoryPoints.Summary("reads")}");

        // Snapshots are written every 10,000 events; the last one holds the state after (nearly) all of them.
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder
                     {
                         DataSource = Path.Combine(server.Process.DataDirectory, "snapshots.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false,
                     }.ToString()))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT (SELECT coalesce(max(length(payload)), 0) FROM grain_state), (SELECT coalesce(sum(length(data)), 0) FROM timeline_chunks)";
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            (result.SnapshotBytes, result.ChunkBytes) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        log($"  largest snapshot {result.SnapshotBytes:N0} bytes; timeline chunks {result.ChunkBytes / 1048576.0:N1} MiB in all");
        result.RestartSeconds = await Recovery.RestartAsync(server.Process, $"/api/entities/{company}/impact");
        log($"  restart after kill -9: the entity answered {result.RestartSeconds:0.00} s after the process started");
        return result;
    }

    /// <summary>
    /// <paramref name="count"/> outage events to the one entity, in batches of 5,000 posted one after another, so that
    /// they arrive in the order they occurred: <see cref="Spacing"/> apart, the last a moment ago.
    /// </summary>
    private static async Task<Throughput> IngestAsync(BenchServer server, string runId, string entity, long from, long count, DateTimeOffset origin)
    {
        var latency = new Latencies();
        long accepted = 0;
        var watch = Stopwatch.StartNew();
        for (var first = from; first < from + count; first += BatchSize)
        {
            var size = (int)Math.Min(BatchSize, from + count - first);
            var body = new System.Text.StringBuilder(size * 190).Append('[');
            for (var i = first; i < first + size; i++)
            {
                var at = origin + Spacing * i;
                body.Append(i == first ? "" : ",").Append(System.FormattableString.Invariant(
                    $$$"""{"id":"{{{runId}}}-h{{{i}}}","entity":"{{{entity}}}","type":"outage","occurredAt":"{{{at.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}}}","region":"{{{Regions[i % Regions.Length]}}}","data":{"reports":{{{500 + i % 5000}}},"baselineReports":500}}"""));
            }

            var sent = Stopwatch.GetTimestamp();
            accepted += await Workloads.PostEventsAsync(server.Http, System.Text.Encoding.UTF8.GetBytes(body.Append(']').ToString()));
            latency.AddSince(sent);
        }

        return new Throughput(accepted / watch.Elapsed.TotalSeconds, latency, accepted, watch.Elapsed.TotalSeconds);
    }

    private static readonly string[] Regions = ["US", "DE", "CN", "FR", "GB", "JP"];

    /// <summary>Between two events' instants: 1,000,000 events span about 14 hours.</summary>
    private static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(50);
}
