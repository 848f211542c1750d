using System.Net;
using System.Text;
using System.Text.Json;

namespace ImpactGrains.Postgres.Tests;

/// <summary>The live features across real silo processes: what one silo ingests, every silo streams and ranks.</summary>
[Collection(PostgresCollection.Name)]
public sealed class LiveFanOutTests(PostgresFixture fixture)
{
    private static StringContent Json(string text, string type = "application/json") => new(text, Encoding.UTF8, type);

    [Fact]
    public async Task An_event_posted_to_one_silo_reaches_the_stream_and_leaderboard_of_the_other()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        await using var a = await ServerProcess.StartAsync(demo: false, extraArgs: PostgresFixture.ServerArgs(connectionString));
        await using var b = await ServerProcess.StartAsync(demo: false, extraArgs: PostgresFixture.ServerArgs(connectionString));

        var ids = Enumerable.Range(0, 8).Select(i => $"fan-{i}").ToArray();
        foreach (var id in ids)
        {
            Assert.Equal(HttpStatusCode.Created, (await a.Http.PutAsync($"/api/entities/{id}", Json($$"""{"name":"{{id}}","kind":"product"}"""))).StatusCode);
        }

        // A stream on silo B, then events through silo A for entities wherever they live.
        using var response = await b.Http.GetAsync("/api/stream?types=score&kind=product", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var seen = new HashSet<string>();
        var reading = Task.Run(async () =>
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    lock (seen)
                    {
                        seen.Add(JsonDocument.Parse(line[6..]).RootElement.GetProperty("entity").GetString()!);
                    }
                }
            }
        });

        await Task.Delay(500);
        var at = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var body = string.Join("\n", ids.Select((id, i) =>
            $$$"""{"id":"{{{id}}}-1","entity":"{{{id}}}","type":"outage","occurredAt":"{{{at}}}","data":{"reports":{{{1000 * (i + 1)}}},"baselineReports":500}}"""));
        Assert.Equal(HttpStatusCode.OK, (await a.Http.PostAsync("/api/events", Json(body, "application/x-ndjson"))).StatusCode);

        for (var i = 0; i < 100; i++)
        {
            lock (seen)
            {
                if (seen.Count == ids.Length)
                {
                    break;
                }
            }

            await Task.Delay(100);
        }

        lock (seen)
        {
            Assert.Equal(ids.Order(), seen.Order());
        }

        // Both silos rank the same way, from the one leaderboard. Each answers from its copy of the published
        // standings, which trails the stream by at most one publish interval (250 ms): within a second both show it.
        string[] Entities(string json) => JsonDocument.Parse(json).RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("entity").GetString()!).ToArray();
        string[] fromA = [], fromB = [];
        for (var deadline = DateTime.UtcNow.AddSeconds(1); ; await Task.Delay(50))
        {
            fromA = Entities(await a.Http.GetStringAsync("/api/leaderboard?kind=product&limit=3"));
            fromB = Entities(await b.Http.GetStringAsync("/api/leaderboard?kind=product&limit=3"));
            if ((fromA.SequenceEqual(["fan-7", "fan-6", "fan-5"]) && fromB.SequenceEqual(fromA)) || DateTime.UtcNow > deadline)
            {
                break;
            }
        }

        Assert.Equal(["fan-7", "fan-6", "fan-5"], fromA);
        Assert.Equal(fromA, fromB);

        // A rescore gives the same answer on either silo: it replays the one shared log.
        var rescore = Json("""{"version":"v1","at":"2026-01-01T00:00:00Z"}""");
        var onA = await (await a.Http.PostAsync("/api/admin/rescore", rescore)).Content.ReadAsStringAsync();
        var onB = await (await b.Http.PostAsync("/api/admin/rescore", Json("""{"version":"v1","at":"2026-01-01T00:00:00Z"}"""))).Content.ReadAsStringAsync();
        Assert.Equal(onA, onB);
        Assert.Contains("\"entities\":8", onA);
    }

    [Fact]
    public async Task An_alert_rule_created_on_one_silo_fires_once_for_an_event_posted_to_the_other()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        // The receiver listens on loopback, which the webhook SSRF policy refuses unless allowed.
        string[] args = PostgresFixture.ServerArgs(connectionString, "--Impact:Alerts:AllowedWebhookHosts:0=127.0.0.1/32");
        await using var a = await ServerProcess.StartAsync(demo: false, extraArgs: args);
        await using var b = await ServerProcess.StartAsync(demo: false, extraArgs: args);
        using var receiver = new System.Net.HttpListener();
        var port = PostgresServer.FreePort();
        receiver.Prefixes.Add($"http://127.0.0.1:{port}/");
        receiver.Start();
        var bodies = new List<string>();
        var listening = Task.Run(async () =>
        {
            while (receiver.IsListening)
            {
                var context = await receiver.GetContextAsync();
                using (var reader = new StreamReader(context.Request.InputStream))
                {
                    var body = await reader.ReadToEndAsync();
                    lock (bodies)
                    {
                        bodies.Add(body);
                    }
                }

                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        Assert.Equal(HttpStatusCode.Created, (await a.Http.PutAsync("/api/entities/fan-alert", Json("""{"name":"Fan","kind":"company"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await a.Http.PostAsync("/api/alert-rules",
            Json($$"""{"target":"fan-alert","metric":"score","threshold":20,"coolDown":"PT1H","webhook":"http://127.0.0.1:{{port}}/hook","secret":"two-silo-secret"}"""))).StatusCode);

        // Rules are cached per silo for a few seconds; wait them out before the event.
        await Task.Delay(6000);
        var at = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        Assert.Equal(HttpStatusCode.OK, (await b.Http.PostAsync("/api/events",
            Json($$$"""{"id":"fan-alert-1","entity":"fan-alert","type":"outage","occurredAt":"{{{at}}}","data":{"reports":30000,"baselineReports":500}}"""))).StatusCode);

        for (var i = 0; i < 100 && bodies.Count == 0; i++)
        {
            await Task.Delay(100);
        }

        await Task.Delay(2000); // a second delivery, if any, would arrive meanwhile
        receiver.Stop();
        lock (bodies)
        {
            var body = Assert.Single(bodies);
            Assert.Contains("\"target\":\"fan-alert\"", body);
        }
    }
}
