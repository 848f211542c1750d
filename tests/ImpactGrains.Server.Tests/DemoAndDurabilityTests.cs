using System.Net;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

/// <summary>Each test runs its own server process, since they start from particular states or kill it.</summary>
public sealed class DemoAndDurabilityTests
{
    [Fact]
    public async Task A_new_user_sees_live_scores_for_the_article_entities()
    {
        await using var server = await ServerProcess.StartAsync(demo: true);
        try
        {
            var entities = (await server.Http.GetJsonAsync("/api/entities")).EnumerateArray()
                .ToDictionary(e => e.GetProperty("id").GetString()!, e => e.GetProperty("score").GetDouble());
            Assert.Equal(["elon-musk", "spacex", "tesla", "x"], entities.Keys.Order());
            Assert.All(entities.Values, score => Assert.InRange(score, 1, 100));

            var x = await server.Http.GetJsonAsync("/api/entities/x/explain");
            var ids = x.GetProperty("contributions").EnumerateArray().Select(c => c.GetProperty("eventId").GetString()).ToList();
            Assert.Contains("demo-x-outage-1", ids);
            Assert.Contains("demo-x-cyberattack-claim", ids);
            Assert.Contains(x.GetProperty("contributions").EnumerateArray(), c => c.GetProperty("entity").GetString() == "elon-musk");

            var tesla = await server.Http.GetJsonAsync("/api/entities/tesla/impact");
            Assert.True(tesla.GetProperty("regions").GetProperty("CN").GetDouble() > 0);
            Assert.True(tesla.GetProperty("regions").GetProperty("DE").GetDouble() > tesla.GetProperty("regions").GetProperty("CN").GetDouble());
            Assert.True(tesla.GetProperty("inherited").GetDouble() > 0);

            // The live leaderboard fills within moments of start-up.
            var entries = 0;
            for (var attempt = 0; attempt < 100 && entries < 4; attempt++)
            {
                await Task.Delay(100);
                entries = (await server.Http.GetJsonAsync("/api/leaderboard")).GetProperty("entries").GetArrayLength();
            }

            Assert.Equal(4, entries);
        }
        finally
        {
            server.DeleteData();
        }
    }

    [Fact]
    public async Task Idle_entity_grains_are_collected_and_come_back_with_the_same_scores()
    {
        await using var server = await ServerProcess.StartAsync(demo: false, extraArgs: ["--Impact:Entities:IdleAfter=00:00:03", "--Orleans:GrainCollection:CollectionQuantum=00:00:01"]);
        try
        {
            var ids = Enumerable.Range(0, 5).Select(i => $"idle-{i}").ToList();
            foreach (var id in ids)
            {
                await server.Http.RegisterAsync(id);
            }

            // Recent events, so that they count on the live leaderboard; scores are compared at one fixed instant.
            var now = DateTimeOffset.UtcNow;
            var body = string.Join("\n", ids.Select((id, i) => Outage($"{id}-1", id, now.AddMinutes(-1).ToString("O"), 1000 * (i + 1))));
            await (await server.Http.PostNdjsonAsync("/api/events", body)).JsonAsync();
            var at = $"?at={Uri.EscapeDataString(now.AddHours(1).ToString("O"))}";
            var before = new Dictionary<string, string>();
            foreach (var id in ids)
            {
                before[id] = (await server.Http.GetJsonAsync($"/api/entities/{id}/impact{at}")).GetRawText();
            }

            var active = await ServerMetrics.ActivationsAsync(server.Http, "entity");
            for (var wait = 0; wait < 150 && active > 0; wait++)
            {
                await Task.Delay(100);
                active = await ServerMetrics.ActivationsAsync(server.Http, "entity");
            }

            Assert.Equal(0, active);
            // The leaderboard still ranks them: their standings stay with the partitions.
            var board = await server.Http.GetJsonAsync("/api/leaderboard?limit=10");
            Assert.Equal(ids.AsEnumerable().Reverse(), board.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("entity").GetString()));
            foreach (var id in ids)
            {
                // Reactivated from the snapshot written on deactivation and the log.
                Assert.Equal(before[id], (await server.Http.GetJsonAsync($"/api/entities/{id}/impact{at}")).GetRawText());
            }

        }
        finally
        {
            server.DeleteData();
        }
    }

    [Fact]
    public async Task Every_acknowledged_event_survives_a_kill_9()
    {
        var server = await ServerProcess.StartAsync(demo: false);
        try
        {
            await server.Http.RegisterAsync("durable");
            var acknowledged = 0;
            for (var batch = 0; batch < 20; batch++)
            {
                var body = string.Join("\n", Enumerable.Range(0, 50).Select(i => Outage($"durable-{batch}-{i}", "durable", "2025-03-10T14:00:00Z", batch * 50 + i)));
                var result = await (await server.Http.PostNdjsonAsync("/api/events", body)).JsonAsync();
                acknowledged += result.GetProperty("accepted").GetInt32();
            }

            // One more acknowledged batch, then kill -9 at once: no shutdown, no snapshot flush.
            var last = await (await server.Http.PostJsonAsync("/api/events", Outage("durable-last", "durable", "2025-03-10T15:00:00Z", 777))).JsonAsync();
            acknowledged += last.GetProperty("accepted").GetInt32();
            server.Kill();

            await server.StartAsync();
            var after = await server.Http.GetJsonAsync("/api/entities/durable/impact?at=2025-03-11T00:00:00Z");
            Assert.Equal(1001, acknowledged);
            Assert.Equal(acknowledged, after.GetProperty("eventCount").GetInt32());
            var newest = await server.Http.GetJsonAsync("/api/entities/durable/events?limit=1");
            Assert.Equal("durable-last", newest.GetProperty("events")[0].GetProperty("id").GetString());

            // Sending everything again after the restart adds nothing.
            var again = await (await server.Http.PostJsonAsync("/api/events", Outage("durable-last", "durable", "2025-03-10T15:00:00Z", 777))).JsonAsync();
            Assert.Equal(1, again.GetProperty("duplicates").GetInt32());
        }
        finally
        {
            await server.DisposeAsync();
            server.DeleteData();
        }
    }

    [Fact]
    public async Task An_invalid_model_configuration_stops_the_server_with_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(demo: false, extraArgs: ["--Impact:Model:Kappa=2"]));
        Assert.Contains("give them a new version name", error.Message);
    }

    [Fact]
    public async Task A_log_cache_size_out_of_range_stops_the_server_with_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(demo: false, extraArgs: ["--Impact:LogCacheMiB=1"]));
        Assert.Contains("Impact:LogCacheMiB: 1 is not a size from 2 to 65,536 MiB", error.Message);
    }

    [Fact]
    public async Task A_delivery_backlog_bound_below_one_stops_the_server_with_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(demo: false, extraArgs: ["--Impact:Ingestion:MaxUndeliveredEvents=0"]));
        Assert.Contains("MaxUndeliveredEvents (0) must be at least 1", error.Message);
    }
}
