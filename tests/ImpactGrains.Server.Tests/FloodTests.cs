using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace ImpactGrains.Server.Tests;

/// <summary>A flood of ingestion from one key is absorbed (429s), and another key's reads go on being served.</summary>
public sealed class FloodTests
{
    [Fact]
    public async Task A_flood_of_ingestion_from_one_key_does_not_starve_reads_from_another()
    {
        await using var server = await ServerProcess.StartAsync(demo: false, extraArgs:
            [.. TestApiKeys.ServerArgs, "--Impact:Limits:WritesPerSecond=20", "--Impact:Limits:WriteBurst=40"]);
        const int entities = 20;
        for (var i = 0; i < entities; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await server.Http.PutAsync($"/api/entities/flood-{i}",
                new StringContent($$"""{"name":"Flood {{i}}","kind":"company"}""", Encoding.UTF8, "application/json"))).StatusCode);
        }

        using var flooder = server.ClientWithKey(TestApiKeys.Ingester);
        using var reader = server.ClientWithKey(TestApiKeys.Reader);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        var acknowledged = new ConcurrentDictionary<string, int>();
        var refused = 0;
        var sequence = 0;
        var flood = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = Enumerable.Range(0, 20).Select(_ => Interlocked.Increment(ref sequence)).ToList();
                var body = "[" + string.Join(",", batch.Select(n =>
                    $$"""{"id":"flood-event-{{n}}","entity":"flood-{{n % entities}}","type":"outage","occurredAt":"{{DateTimeOffset.UtcNow.AddMinutes(-1):O}}","data":{"reports":{{100 + n % 50}}} }""")) + "]";
                using var response = await flooder.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, "application/json"));
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Assert.True(response.Headers.RetryAfter is not null, "a 429 says when to retry");
                    Interlocked.Increment(ref refused);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    foreach (var n in batch)
                    {
                        acknowledged.AddOrUpdate($"flood-{n % entities}", 1, (_, c) => c + 1);
                    }
                }
            }
        })).ToList();

        // Meanwhile the reader reads, one request at a time, as a dashboard would.
        var latencies = new List<double>();
        var watch = new Stopwatch();
        var read = 0;
        while (!stop.IsCancellationRequested)
        {
            watch.Restart();
            using var response = await reader.GetAsync($"/api/entities/flood-{read++ % entities}/impact");
            latencies.Add(watch.Elapsed.TotalMilliseconds);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Task.WhenAll(flood);
        Assert.True(refused > 0, "the flood was refused in part (429)");
        Assert.True(latencies.Count >= 20, $"the reader was served only {latencies.Count} times in 6 s");
        latencies.Sort();
        // Generous on a shared 2-core machine: starving would mean seconds or time-outs, not tens of milliseconds.
        Assert.True(latencies[latencies.Count / 2] < 500, $"median read {latencies[latencies.Count / 2]:F0} ms during the flood");

        // Every acknowledged event is counted; nothing refused is.
        foreach (var (entity, count) in acknowledged)
        {
            var impact = JsonDocument.Parse(await reader.GetStringAsync($"/api/entities/{entity}/impact")).RootElement;
            Assert.Equal(count, impact.GetProperty("eventCount").GetInt32());
        }

        server.DeleteData();
    }
}
