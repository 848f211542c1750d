using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImpactGrains.Bench;
using ImpactGrains.Testing;

// The soak (issue #8): a steady mixed load on a real server (embedded profile, API keys and the default rate limits on)
// for --minutes (10), after which it checks that
//   - no request failed (no 5xx, no 429, no transport error, no stream dropped);
//   - memory stayed flat: the working set and the live GC heap, averaged over the last minute, are within 10% of
//     their average over the first minute after the warm-up (--warmup-minutes, 2). Before each sample (every 15 s)
//     the soak induces a full, blocking collection in the server through the diagnostics port (an EventPipe session
//     with the GCHeapCollect keyword, as dotnet-gcdump does), so that the heap figure is what is alive, not whatever
//     garbage generation 2 holds at that moment;
//   - every acknowledged event is counted: each entity's eventCount equals the events acknowledged for it.
// It prints a line per minute and a Markdown summary; exit code 0 when all three hold.
// Usage: dotnet run -c Release --project bench/ImpactGrains.Bench.Soak -- [--minutes=10] [--warmup-minutes=2]
//        [--events-per-second=100] [--reads-per-second=300] [--entities=1000]
var minutes = double.Parse(Arg("minutes", "10"), CultureInfo.InvariantCulture);
var warmup = double.Parse(Arg("warmup-minutes", "2"), CultureInfo.InvariantCulture);
var eventsPerSecond = int.Parse(Arg("events-per-second", "100"), CultureInfo.InvariantCulture);
var readsPerSecond = int.Parse(Arg("reads-per-second", "300"), CultureInfo.InvariantCulture);
var entityCount = int.Parse(Arg("entities", "1000"), CultureInfo.InvariantCulture);
const int TicksPerSecond = 10;

Console.WriteLine($"soak: {minutes} min ({warmup} min warm-up), {eventsPerSecond} events/s in {TicksPerSecond} batches a second, {readsPerSecond} reads/s, {entityCount} entities, one stream");
await using var server = await ServerProcess.StartAsync(demo: false, extraArgs: TestApiKeys.ServerArgs);
using var admin = server.ClientWithKey(TestApiKeys.Admin);
using var ingester = server.ClientWithKey(TestApiKeys.Ingester);
using var reader = server.ClientWithKey(TestApiKeys.Reader);
ingester.Timeout = reader.Timeout = TimeSpan.FromSeconds(30);

var entities = Enumerable.Range(0, entityCount).Select(i => $"soak-{i}").ToArray();
// Registering is part of the set-up, paced under the default write limit (200 a second, bursts of 2000).
foreach (var chunk in entities.Chunk(150))
{
    await Task.WhenAll(chunk.Select(async id =>
    {
        using var response = await admin.PutAsync($"/api/entities/{id}", Json($$"""{"name":"{{id}}","kind":"company"}"""));
        response.EnsureSuccessStatusCode();
    }));
    await Task.Delay(1000);
}

var errors = new ConcurrentQueue<string>();
var acknowledged = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
var readLatencies = new ConcurrentQueue<double>();
var ackLatencies = new ConcurrentQueue<double>();
long eventsAcknowledged = 0, readsDone = 0, streamMessages = 0;
var total = TimeSpan.FromMinutes(minutes);
using var stop = new CancellationTokenSource(total);
var started = Stopwatch.StartNew();

// Ingestion: a batch every 100 ms, unique ids, entities round-robin with a skew (every 10th event to the first 1%).
var ingestion = Task.Run(async () =>
{
    var sequence = 0L;
    var batchSize = Math.Max(1, eventsPerSecond / TicksPerSecond);
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / TicksPerSecond));
    var inFlight = new List<Task>();
    while (await Tick(timer, stop.Token))
    {
        var batch = new List<(string Id, string Entity)>(batchSize);
        for (var i = 0; i < batchSize; i++)
        {
            var n = sequence++;
            var entity = n % 10 == 0 ? entities[(int)(n / 10 % Math.Max(1, entityCount / 100))] : entities[(int)(n % entityCount)];
            batch.Add(($"soak-e-{n}", entity));
        }

        inFlight.RemoveAll(t => t.IsCompleted);
        inFlight.Add(PostAsync(batch));
    }

    await Task.WhenAll(inFlight);
});

async Task PostAsync(List<(string Id, string Entity)> batch)
{
    var occurred = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O", CultureInfo.InvariantCulture);
    var body = "[" + string.Join(",", batch.Select((e, i) => i % 3 == 0
        ? $$"""{"id":"{{e.Id}}","entity":"{{e.Entity}}","type":"outage","occurredAt":"{{occurred}}","region":"US","data":{"reports":{{200 + i}}} }"""
        : $$"""{"id":"{{e.Id}}","entity":"{{e.Entity}}","type":"stock-change","occurredAt":"{{occurred}}","data":{"percent":-{{1 + i % 5}}} }""")) + "]";
    var watch = Stopwatch.StartNew();
    try
    {
        using var response = await ingester.PostAsync("/api/events", Json(body));
        if (!response.IsSuccessStatusCode)
        {
            errors.Enqueue($"POST /api/events: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return;
        }

        ackLatencies.Enqueue(watch.Elapsed.TotalMilliseconds);
        using var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (result.RootElement.GetProperty("rejected").GetArrayLength() > 0)
        {
            errors.Enqueue($"POST /api/events rejected events: {result.RootElement.GetProperty("rejected")}");
            return;
        }

        foreach (var (_, entity) in batch)
        {
            acknowledged.AddOrUpdate(entity, 1, (_, c) => c + 1);
        }

        Interlocked.Add(ref eventsAcknowledged, batch.Count);
    }
    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
    {
        errors.Enqueue($"POST /api/events: {ex.Message}");
    }
}

// Reads: impact, explain, history and the leaderboard, paced across four workers.
var reads = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
{
    var random = new Random(worker);
    var perWorker = Math.Max(1, readsPerSecond / 4);
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / perWorker));
    while (await Tick(timer, stop.Token))
    {
        var entity = entities[random.Next(entityCount)];
        var path = random.Next(10) switch
        {
            < 5 => $"/api/entities/{entity}/impact",
            < 7 => $"/api/entities/{entity}/explain?limit=10",
            < 8 => $"/api/entities/{entity}/history?from={DateTimeOffset.UtcNow.AddHours(-1):O}&step=PT5M".Replace("+", "%2B", StringComparison.Ordinal),
            _ => "/api/leaderboard?limit=20",
        };
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await reader.GetAsync(path);
            if (!response.IsSuccessStatusCode)
            {
                errors.Enqueue($"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                continue;
            }

            await response.Content.ReadAsByteArrayAsync();
            readLatencies.Enqueue(watch.Elapsed.TotalMilliseconds);
            Interlocked.Increment(ref readsDone);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            errors.Enqueue($"GET {path}: {ex.Message}");
        }
    }
})).ToList();

// One live stream for the whole soak: it must stay open and keep delivering.
var stream = Task.Run(async () =>
{
    try
    {
        using var response = await reader.GetAsync("/api/stream?types=score", HttpCompletionOption.ResponseHeadersRead, stop.Token);
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
        while (await lines.ReadLineAsync(stop.Token) is { } line)
        {
            if (line.StartsWith("event: dropped", StringComparison.Ordinal))
            {
                errors.Enqueue("the stream was dropped (the client fell behind)");
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref streamMessages);
            }
        }

        if (!stop.IsCancellationRequested)
        {
            errors.Enqueue("the stream ended before the soak did");
        }
    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
    }
    catch (Exception ex) when (ex is HttpRequestException or IOException)
    {
        errors.Enqueue($"the stream failed: {ex.Message}");
    }
});

// Memory, sampled every 15 s from the server's own /metrics (System.Runtime's meter), each after a full collection.
var samples = new List<(double Minute, double WorkingSetMiB, double HeapMiB)>();
var sampling = Task.Run(async () =>
{
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(15));
    var lastPrinted = -1;
    while (await Tick(timer, stop.Token))
    {
        var (workingSet, heap) = await MemoryAsync();
        var minute = started.Elapsed.TotalMinutes;
        lock (samples)
        {
            samples.Add((minute, workingSet, heap));
        }

        if ((int)minute != lastPrinted)
        {
            lastPrinted = (int)minute;
            var reads = readLatencies.ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {minute,5:F1} min  working set {workingSet,6:F0} MiB  live heap {heap,6:F0} MiB  events {Interlocked.Read(ref eventsAcknowledged),9:N0}  reads {Interlocked.Read(ref readsDone),9:N0}  stream {Interlocked.Read(ref streamMessages),9:N0}  errors {errors.Count}"));
        }
    }
});

await Task.WhenAll([ingestion, .. reads, stream, sampling]);
var elapsed = started.Elapsed;

// Every acknowledged event counted: each entity's own eventCount (as of now, the events are a second old).
await Task.Delay(TimeSpan.FromSeconds(2));
var miscounted = new List<string>();
foreach (var (entity, count) in acknowledged)
{
    using var impact = JsonDocument.Parse(await reader.GetStringAsync($"/api/entities/{entity}/impact"));
    var counted = impact.RootElement.GetProperty("eventCount").GetInt64();
    if (counted != count)
    {
        miscounted.Add($"{entity}: {counted} counted, {count} acknowledged");
    }
}

List<(double Minute, double WorkingSetMiB, double HeapMiB)> after;
lock (samples)
{
    after = samples.Where(s => s.Minute >= warmup).ToList();
}

var first = after.Where(s => s.Minute < warmup + 1).ToList();
var last = after.Where(s => s.Minute >= elapsed.TotalMinutes - 1).ToList();
double Growth(Func<(double Minute, double WorkingSetMiB, double HeapMiB), double> of) => last.Average(of) / first.Average(of) - 1;
var workingSetGrowth = Growth(s => s.WorkingSetMiB);
var heapGrowth = Growth(s => s.HeapMiB);
var memoryFlat = Math.Abs(workingSetGrowth) <= 0.10 && Math.Abs(heapGrowth) <= 0.10;

var readArray = readLatencies.ToArray();
var ackArray = ackLatencies.ToArray();
Array.Sort(readArray);
Array.Sort(ackArray);
Console.WriteLine();
Console.WriteLine($"| soak, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores | value |");
Console.WriteLine("|---|---|");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| duration (warm-up) | {elapsed.TotalMinutes:F1} min ({warmup:F0} min) |"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| events acknowledged | {eventsAcknowledged:N0} ({eventsAcknowledged / elapsed.TotalSeconds:F0}/s), ack p50 {Percentile(ackArray, 0.5):F1} ms, p99 {Percentile(ackArray, 0.99):F1} ms |"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| reads | {readsDone:N0} ({readsDone / elapsed.TotalSeconds:F0}/s), p50 {Percentile(readArray, 0.5):F1} ms, p99 {Percentile(readArray, 0.99):F1} ms, p99.9 {Percentile(readArray, 0.999):F1} ms |"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| stream messages | {streamMessages:N0} |"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| working set, first minute after warm-up → last minute | {first.Average(s => s.WorkingSetMiB):F0} → {last.Average(s => s.WorkingSetMiB):F0} MiB ({workingSetGrowth:+0.0%;-0.0%}) |"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| live GC heap (after an induced full collection), same minutes | {first.Average(s => s.HeapMiB):F0} → {last.Average(s => s.HeapMiB):F0} MiB ({heapGrowth:+0.0%;-0.0%}) |"));
Console.WriteLine($"| errors | {errors.Count} |");
Console.WriteLine($"| acknowledged events not counted | {miscounted.Count} entities |");
foreach (var error in errors.Take(10))
{
    Console.WriteLine($"error: {error}");
}

foreach (var line in miscounted.Take(10))
{
    Console.WriteLine($"miscounted: {line}");
}

var passed = errors.IsEmpty && miscounted.Count == 0 && memoryFlat;
Console.WriteLine(passed ? "soak: passed" : $"soak: FAILED (errors {errors.Count}, miscounted {miscounted.Count}, memory flat {memoryFlat})");
await server.StopAsync(TimeSpan.FromSeconds(30));
server.DeleteData();
return passed ? 0 : 1;

async Task<(double WorkingSetMiB, double HeapMiB)> MemoryAsync()
{
    await Task.Run(() => ServerGc.InduceFullCollection(server.ProcessId));
    await Task.Delay(TimeSpan.FromSeconds(1)); // the exporter caches its answer for a moment
    var text = await reader.GetStringAsync("/metrics");
    double Sum(string metric) => Regex.Matches(text, $@"^{metric}(\{{[^}}]*\}})? (\S+)", RegexOptions.Multiline)
        .Sum(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    return (Sum("dotnet_process_memory_working_set_bytes") / 1048576, Sum("dotnet_gc_last_collection_heap_size_bytes") / 1048576);
}

static async Task<bool> Tick(PeriodicTimer timer, CancellationToken token)
{
    try
    {
        return await timer.WaitForNextTickAsync(token);
    }
    catch (OperationCanceledException)
    {
        return false;
    }
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

static string Arg(string name, string fallback) =>
    Environment.GetCommandLineArgs().FirstOrDefault(a => a.StartsWith($"--{name}=", StringComparison.Ordinal))?[(name.Length + 3)..] ?? fallback;
