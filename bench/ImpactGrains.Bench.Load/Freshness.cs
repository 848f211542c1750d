using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ImpactGrains.Bench;

/// <summary>
/// Freshness probes, run while the server is under load: the time from the acknowledgement (the 200 of
/// POST /api/events) until (a) GET /impact counts the event, (b) the event's entity tops GET /api/leaderboard and
/// (c) /api/stream delivers its score. The leaderboard probes are the only products (the load's entities are
/// companies, the /impact probe a person), so nothing else can outrank them.
/// </summary>
public sealed class Freshness
{
    public Latencies ToScore { get; } = new();

    public Latencies ToLeaderboard { get; } = new();

    public Latencies ToStream { get; } = new();

    /// <summary>Probes that gave up waiting (their sample is the time waited, so percentiles show them).</summary>
    public List<string> TimedOut { get; } = [];

    public static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(10);

    public async Task RunAsync(Uri server, string runId, int rounds, double seconds, CancellationToken stop)
    {
        using var http = BenchServer.CreateClient(server);
        using var streamHttp = BenchServer.CreateClient(server);
        streamHttp.Timeout = Timeout.InfiniteTimeSpan;
        var scoreProbe = $"p{runId}-score";
        // A person: were it a product, its growing score could outrank the leaderboard probes below.
        await Workloads.CheckAsync(await http.PutAsync($"/api/entities/{scoreProbe}", Workloads.Json($$"""{"name":"{{scoreProbe}}","kind":"person"}""")));

        var streamed = new ConcurrentDictionary<string, long>();
        using var streamStop = new CancellationTokenSource();
        var streamTask = Task.Run(async () =>
        {
            using var response = await streamHttp.GetAsync("/api/stream?types=score&kind=product", HttpCompletionOption.ResponseHeadersRead, streamStop.Token);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(streamStop.Token));
            while (await reader.ReadLineAsync(streamStop.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    var entity = JsonDocument.Parse(line[6..]).RootElement.GetProperty("entity").GetString()!;
                    streamed.TryAdd(entity, Stopwatch.GetTimestamp());
                }
            }
        });
        await Task.Delay(300);

        var started = Stopwatch.StartNew();
        for (var round = 0; round < rounds && started.Elapsed.TotalSeconds < seconds && !stop.IsCancellationRequested; round++)
        {
            // (a) acknowledgement → visible on /impact: poll until eventCount includes the new event.
            var occurred = Timestamp(DateTimeOffset.UtcNow.AddSeconds(-1));
            await PostAsync(http, $$$"""{"id":"p{{{runId}}}-s{{{round}}}","entity":"{{{scoreProbe}}}","type":"statement","occurredAt":"{{{occurred}}}","data":{"severity":"minor"}}""");
            var acknowledged = Stopwatch.GetTimestamp();
            await WaitForAsync(async () => (await Workloads.GetOkAsync(http, $"/api/entities/{scoreProbe}/impact")).GetProperty("eventCount").GetInt32() > round, "impact");
            ToScore.AddSince(acknowledged);

            // (b), (c): a fresh product whose outage outranks every earlier probe.
            var top = $"p{runId}-top{round}";
            await Workloads.CheckAsync(await http.PutAsync($"/api/entities/{top}", Workloads.Json($$"""{"name":"{{top}}","kind":"product"}""")));
            await PostAsync(http, $$$"""{"id":"{{{top}}}-e","entity":"{{{top}}}","type":"outage","occurredAt":"{{{occurred}}}","data":{"reports":{{{1000 + 1000 * round}}},"baselineReports":500}}""");
            acknowledged = Stopwatch.GetTimestamp();
            await WaitForAsync(async () =>
            {
                var board = await Workloads.GetOkAsync(http, "/api/leaderboard?kind=product&limit=1");
                return board.GetProperty("entries").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } first &&
                       first.GetProperty("entity").GetString() == top;
            }, "leaderboard");
            ToLeaderboard.AddSince(acknowledged);
            ToStream.Add(await WaitForAsync(() => Task.FromResult(streamed.ContainsKey(top)), "stream")
                ? Math.Max(0, Stopwatch.GetElapsedTime(acknowledged, streamed[top]).TotalMilliseconds) // before the 200 was read: 0
                : Stopwatch.GetElapsedTime(acknowledged).TotalMilliseconds);
        }

        streamStop.Cancel();
        try
        {
            await streamTask;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
            // the stream ends when we stop reading
        }
    }

    private static async Task PostAsync(HttpClient http, string json)
    {
        using var content = Workloads.Json(json);
        await Workloads.CheckAsync(await http.PostAsync("/api/events", content));
    }

    /// <summary>Polls until the condition holds; false after <see cref="GiveUp"/>, which then counts as a sample of that length.</summary>
    private async Task<bool> WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > GiveUp)
            {
                TimedOut.Add(what);
                return false;
            }

            await Task.Delay(what == "impact" ? 0 : 5);
        }

        return true;
    }

    private static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
