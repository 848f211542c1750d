using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ImpactGrains.Bench;

/// <summary>The HTTP workloads against a running server (or several silos of one cluster).</summary>
public static class Workloads
{
    private static int seeds;

    /// <summary>
    /// Registers entities <c>b{run}-from … b{run}-(from+count−1)</c> in bulk (PUT /api/entities, NDJSON, 10,000 a
    /// request), <paramref name="concurrency"/> requests at a time.
    /// </summary>
    public static async Task RegisterAsync(HttpClient http, string runId, int from, int count, string kind, int concurrency = 2)
    {
        const int perRequest = 10_000;
        var chunks = (count + perRequest - 1) / perRequest;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int chunk;
            while ((chunk = Interlocked.Increment(ref next)) < chunks)
            {
                var body = new StringBuilder();
                for (var index = from + chunk * perRequest; index < Math.Min(from + count, from + (chunk + 1) * perRequest); index++)
                {
                    var id = BenchEvents.EntityId(runId, index);
                    body.Append($$"""{"id":"{{id}}","name":"{{id}}","kind":"{{kind}}"}""").Append('\n');
                }

                using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson");
                using var response = await http.PutAsync("/api/entities", content);
                var text = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode || !text.Contains("\"rejected\":[]", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"PUT /api/entities: {(int)response.StatusCode} {text[..Math.Min(text.Length, 500)]}");
                }
            }
        }));
    }

    /// <summary>
    /// Closed-loop ingestion: <paramref name="workers"/> clients, each posting one batch and waiting for its
    /// acknowledgement, round-robin over the silos, for <paramref name="seconds"/>. Counts accepted events.
    /// </summary>
    public static async Task<Throughput> IngestAsync(HttpClient[] silos, string runId, int entities, bool skewed, int workers, int batchSize, double seconds, CancellationToken stop = default)
    {
        var latency = new Latencies();
        long accepted = 0;
        var started = Stopwatch.GetTimestamp();
        var until = started + (long)(seconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var events = new BenchEvents(runId, entities, skewed, Interlocked.Increment(ref seeds));
            var http = silos[w % silos.Length];
            while (Stopwatch.GetTimestamp() < until && !stop.IsCancellationRequested)
            {
                var body = events.Batch(batchSize, DateTimeOffset.UtcNow);
                var sent = Stopwatch.GetTimestamp();
                var count = await PostEventsAsync(http, body);
                latency.AddSince(sent);
                Interlocked.Add(ref accepted, count);
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new Throughput(accepted / elapsed, latency, accepted, elapsed);
    }

    /// <summary>Posts a JSON array of events; returns how many were accepted, and fails on any rejection.</summary>
    public static async Task<int> PostEventsAsync(HttpClient http, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/api/events", content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /api/events: {(int)response.StatusCode} {text}");
        }

        using var result = JsonDocument.Parse(text);
        if (result.RootElement.GetProperty("rejected").GetArrayLength() > 0)
        {
            throw new InvalidOperationException($"events were rejected: {text[..Math.Min(text.Length, 500)]}");
        }

        return result.RootElement.GetProperty("accepted").GetInt32();
    }

    /// <summary>Closed-loop GETs: <paramref name="workers"/> clients, each waiting for its answer before the next.</summary>
    public static Task<Throughput> QueryAsync(HttpClient http, Func<Random, string> path, int workers, double seconds, CancellationToken stop = default) =>
        QueryAsync([http], path, workers, seconds, stop);

    /// <summary>Closed-loop GETs spread over several silos: worker w reads from silo w mod N.</summary>
    public static async Task<Throughput> QueryAsync(HttpClient[] silos, Func<Random, string> path, int workers, double seconds, CancellationToken stop = default)
    {
        var latency = new Latencies();
        long done = 0;
        var started = Stopwatch.GetTimestamp();
        var until = started + (long)(seconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var random = new Random(Interlocked.Increment(ref seeds));
            var http = silos[w % silos.Length];
            var mine = new List<double>();
            var buffer = new byte[16 * 1024];
            while (Stopwatch.GetTimestamp() < until && !stop.IsCancellationRequested)
            {
                var sent = Stopwatch.GetTimestamp();
                await GetDrainedAsync(http, path(random), buffer);
                mine.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }

            latency.AddRange(mine);
            Interlocked.Add(ref done, mine.Count);
        })));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new Throughput(done / elapsed, latency, done, elapsed);
    }

    /// <summary>
    /// Open-loop GETs at a fixed <paramref name="rate"/>: each request is timed from when it was due, not from when it
    /// was sent, so a stalled server shows in the latency instead of slowing the load (no coordinated omission).
    /// </summary>
    public static Task<Throughput> QueryAtRateAsync(HttpClient http, Func<Random, string> path, double rate, double seconds) =>
        QueryAtRateAsync([http], path, rate, seconds);

    /// <summary>Open-loop GETs over several silos, in turn.</summary>
    public static async Task<Throughput> QueryAtRateAsync(HttpClient[] silos, Func<Random, string> path, double rate, double seconds)
    {
        var latency = new Latencies();
        var random = new Random(Interlocked.Increment(ref seeds));
        var requests = new List<Task>();
        var started = Stopwatch.GetTimestamp();
        var total = (long)(rate * seconds);
        for (long i = 0; i < total; i++)
        {
            var due = started + (long)(i / rate * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < due)
            {
                await Task.Delay(1);
            }

            requests.Add(TimedAsync(silos[i % silos.Length], path(random), due));
        }

        await Task.WhenAll(requests);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new Throughput(total / elapsed, latency, total, elapsed);

        async Task TimedAsync(HttpClient http, string target, long due)
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                await GetDrainedAsync(http, target, buffer);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }

            latency.AddSince(due);
        }
    }

    /// <summary>
    /// Open-loop ingestion at <paramref name="eventsPerSecond"/>: batches sent when due, whether or not the earlier ones
    /// were acknowledged, over the silos in turn; latency is timed from when each batch was due.
    /// </summary>
    public static async Task<Throughput> IngestAtRateAsync(HttpClient[] silos, string runId, int entities, double eventsPerSecond, int batchSize, double seconds)
    {
        var latency = new Latencies();
        long accepted = 0;
        var events = new BenchEvents(runId, entities, false, Interlocked.Increment(ref seeds));
        var batchRate = Math.Max(0.5, eventsPerSecond / batchSize);
        var posts = new List<Task>();
        var started = Stopwatch.GetTimestamp();
        var total = Math.Max(1, (long)(batchRate * seconds));
        for (long i = 0; i < total; i++)
        {
            var due = started + (long)(i / batchRate * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < due)
            {
                await Task.Delay(1);
            }

            var body = events.Batch(batchSize, DateTimeOffset.UtcNow);
            var http = silos[i % silos.Length];
            posts.Add(Task.Run(async () =>
            {
                Interlocked.Add(ref accepted, await PostEventsAsync(http, body));
                latency.AddSince(due);
            }));
        }

        await Task.WhenAll(posts);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new Throughput(accepted / elapsed, latency, accepted, elapsed);
    }

    /// <summary>
    /// A measured GET: a 200 whose body is read to its end, as an HTTP load tool reads it, without parsing it. Parsing
    /// every answer into a document cost the load generator, which shares the cores with the server, more for a
    /// leaderboard of ten than for the floor's small object, and so lowered every read's ratio to the floor.
    /// </summary>
    public static async Task GetDrainedAsync(HttpClient http, string path, byte[] buffer)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync();
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {text[..Math.Min(text.Length, 500)]}");
        }

        await using var body = await response.Content.ReadAsStreamAsync();
        long length = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            length += read;
        }

        if (length == 0)
        {
            throw new InvalidOperationException($"GET {path}: 200 with an empty body");
        }
    }

    public static async Task<JsonElement> GetOkAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {text[..Math.Min(text.Length, 500)]}");
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    public static async Task CheckAsync(HttpResponseMessage response)
    {
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }
}
