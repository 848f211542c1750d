using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

// Live freshness: for each of N rounds, post one event that makes a fresh entity the top of its board, and time from
// the 200 (the acknowledgement) until (a) GET /api/leaderboard shows it first and (b) /api/stream delivers its score.
// Usage: dotnet run -c Release --project bench/ImpactGrains.Bench.Live -- [--url=http://127.0.0.1:5080] [--rounds=50]
var url = Arg("url", "http://127.0.0.1:5080");
var rounds = int.Parse(Arg("rounds", "50"), CultureInfo.InvariantCulture);
var run = Guid.NewGuid().ToString("N")[..8];
using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };

var streamEvents = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
using var streamCancel = new CancellationTokenSource();
var streamTask = Task.Run(async () =>
{
    using var response = await http.GetAsync("/api/stream?types=score&kind=product", HttpCompletionOption.ResponseHeadersRead, streamCancel.Token);
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(streamCancel.Token));
    while (await reader.ReadLineAsync(streamCancel.Token) is { } line)
    {
        if (line.StartsWith("data: ", StringComparison.Ordinal))
        {
            var entity = JsonDocument.Parse(line[6..]).RootElement.GetProperty("entity").GetString()!;
            streamEvents.TryAdd(entity, Stopwatch.GetTimestamp());
        }
    }
});
await Task.Delay(500);

var toBoard = new List<double>();
var toStream = new List<double>();
for (var round = 0; round < rounds; round++)
{
    var entity = $"bench-{run}-{round}";
    await Check(await http.PutAsync($"/api/entities/{entity}", Json($$"""{"name":"{{entity}}","kind":"product"}""")));
    var occurred = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
    var reports = 1000 + 1000 * round; // each round's entity outranks the previous ones
    var body = $$$"""{"id":"{{{entity}}}-e","entity":"{{{entity}}}","type":"outage","occurredAt":"{{{occurred}}}","data":{"reports":{{{reports}}},"baselineReports":500}}""";
    await Check(await http.PostAsync("/api/events", Json(body)));
    var acknowledged = Stopwatch.GetTimestamp();

    while (true)
    {
        var board = await http.GetFromJsonAsync<JsonElement>("/api/leaderboard?kind=product&limit=1");
        if (board.GetProperty("entries").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } top &&
            top.GetProperty("entity").GetString() == entity)
        {
            toBoard.Add(Stopwatch.GetElapsedTime(acknowledged).TotalMilliseconds);
            break;
        }

        if (Stopwatch.GetElapsedTime(acknowledged) > TimeSpan.FromSeconds(10))
        {
            throw new TimeoutException($"{entity} never reached the top of the leaderboard");
        }

        await Task.Delay(5);
    }

    var waited = Stopwatch.StartNew();
    while (!streamEvents.ContainsKey(entity) && waited.Elapsed < TimeSpan.FromSeconds(10))
    {
        await Task.Delay(5);
    }

    if (streamEvents.TryGetValue(entity, out var seen))
    {
        toStream.Add(Stopwatch.GetElapsedTime(acknowledged, seen).TotalMilliseconds);
    }
}

streamCancel.Cancel();
try { await streamTask; } catch (OperationCanceledException) { } catch (IOException) { }

Console.WriteLine($"live freshness over {rounds} rounds against {url}");
Console.WriteLine("| measure | median ms | p90 ms | max ms | samples |");
Console.WriteLine("|---|---|---|---|---|");
Report("acknowledged → leaderboard", toBoard);
Report("acknowledged → stream event", toStream);
return 0;

void Report(string name, List<double> samples)
{
    if (samples.Count == 0)
    {
        Console.WriteLine($"| {name} | – | – | – | 0 |");
        return;
    }

    samples.Sort();
    double At(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {At(0.5):0} | {At(0.9):0} | {samples[^1]:0} | {samples.Count} |"));
}

static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

static async Task Check(HttpResponseMessage response)
{
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}

string Arg(string name, string fallback) =>
    args.FirstOrDefault(a => a.StartsWith($"--{name}=", StringComparison.Ordinal))?[(name.Length + 3)..] ?? fallback;
