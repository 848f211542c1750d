using System.Net;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

/// <summary>From an event to a signed webhook, through the real server: evaluation, the alert log, the stream.</summary>
[Collection(ServerCollection.Name)]
public sealed class AlertsEndToEndTests(ServerFixture fixture) : IAsyncLifetime
{
    private const string Secret = "end-to-end-secret";
    private readonly AlertDeliveryTests.Receiver receiver = new(Secret);

    private HttpClient Api => fixture.Http;

    public Task InitializeAsync() => receiver.StartAsync();

    public async Task DisposeAsync() => await receiver.DisposeAsync();

    private static string Now => DateTimeOffset.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ssZ");

    private async Task<List<AlertDeliveryTests.Receiver.Received>> ReceivedAsync(string path, int count)
    {
        for (var i = 0; i < 200 && receiver.Requests(path).Count < count; i++)
        {
            await Task.Delay(50);
        }

        return receiver.Requests(path);
    }

    [Fact]
    public async Task An_entity_crossing_its_threshold_fires_one_signed_webhook_an_alert_and_a_stream_event()
    {
        await Api.RegisterAsync("alert-e2e");
        var rule = await (await Api.PostJsonAsync("/api/alert-rules",
            $$"""{"target":"alert-e2e","metric":"score","threshold":20,"coolDown":"PT1H","webhook":"{{receiver.Url("/e2e")}}","secret":"{{Secret}}"}""")).JsonAsync(HttpStatusCode.Created);
        await using var stream = await StreamTests.SseReader.OpenAsync(Api, "/api/stream?types=alert&entity=alert-e2e");

        // Below the threshold: nothing.
        await (await Api.PostJsonAsync("/api/events", Outage("alert-e2e-1", "alert-e2e", Now, 600))).JsonAsync();
        await Task.Delay(1000);
        Assert.Empty(receiver.Requests("/e2e"));

        // Above it: one alert, delivered once, signed.
        await (await Api.PostJsonAsync("/api/events", Outage("alert-e2e-2", "alert-e2e", Now, 30_000))).JsonAsync();
        var delivered = Assert.Single(await ReceivedAsync("/e2e", 1));
        Assert.True(delivered.SignatureValid);
        Assert.Contains("\"target\":\"alert-e2e\"", delivered.Body);
        Assert.Contains(rule.GetProperty("id").GetString()!, delivered.Body);

        var streamed = await stream.NextMatchingAsync(e => e.Type == "alert", TimeSpan.FromSeconds(10));
        Assert.Contains("\"metric\":\"score\"", streamed.Data);

        var alerts = (await Api.GetJsonAsync("/api/alerts?limit=100")).GetProperty("alerts").EnumerateArray()
            .Where(a => a.GetProperty("target").GetString() == "alert-e2e").ToList();
        Assert.Single(alerts);

        // Inside the cool-down, a bigger hit does not alert again.
        await (await Api.PostJsonAsync("/api/events", Outage("alert-e2e-3", "alert-e2e", Now, 90_000))).JsonAsync();
        await Task.Delay(1500);
        Assert.Single(receiver.Requests("/e2e"));
    }

    [Fact]
    public async Task A_group_rule_judges_the_groups_own_score()
    {
        await Api.RegisterAsync("alert-g-a");
        await Api.RegisterAsync("alert-g-b");
        await (await Api.PutJsonAsync("/api/groups/alert-g", """{"name":"G","method":"noisy-or","members":["alert-g-a","alert-g-b"]}""")).JsonAsync(HttpStatusCode.Created);
        await (await Api.PostJsonAsync("/api/alert-rules",
            $$"""{"target":"group:alert-g","metric":"score","threshold":30,"coolDown":"PT1H","webhook":"{{receiver.Url("/group")}}","secret":"{{Secret}}"}""")).JsonAsync(HttpStatusCode.Created);

        // Each member alone stays below 30; together (noisy-OR) the group passes it.
        await (await Api.PostJsonAsync("/api/events", Outage("alert-g-1", "alert-g-a", Now, 4000))).JsonAsync();
        await Task.Delay(800);
        var a = (await Api.GetJsonAsync("/api/entities/alert-g-a/impact")).GetProperty("score").GetDouble();
        Assert.InRange(a, 15, 30);
        Assert.Empty(receiver.Requests("/group"));
        await (await Api.PostJsonAsync("/api/events", Outage("alert-g-2", "alert-g-b", Now, 4000))).JsonAsync();

        var delivered = Assert.Single(await ReceivedAsync("/group", 1));
        Assert.True(delivered.SignatureValid);
        Assert.Contains("\"target\":\"group:alert-g\"", delivered.Body);
    }

    [Fact]
    public async Task A_group_created_right_after_the_groups_were_read_is_judged_at_once()
    {
        // A rule on one group, and a change of its member: the alert listener reads the groups now.
        await Api.RegisterAsync("alert-warm-a");
        await (await Api.PutJsonAsync("/api/groups/alert-warm", """{"name":"W","method":"noisy-or","members":["alert-warm-a"]}""")).JsonAsync(HttpStatusCode.Created);
        await (await Api.PostJsonAsync("/api/alert-rules",
            $$"""{"target":"group:alert-warm","metric":"score","threshold":99,"coolDown":"PT1H","webhook":"{{receiver.Url("/warm")}}","secret":"{{Secret}}"}""")).JsonAsync(HttpStatusCode.Created);
        await (await Api.PostJsonAsync("/api/events", Outage("alert-warm-1", "alert-warm-a", Now, 600))).JsonAsync();
        await Task.Delay(600);

        // A group and its rule made within the seconds that copy is kept: its member's change must still be judged.
        await Api.RegisterAsync("alert-late-a");
        await (await Api.PutJsonAsync("/api/groups/alert-late", """{"name":"L","method":"noisy-or","members":["alert-late-a"]}""")).JsonAsync(HttpStatusCode.Created);
        await (await Api.PostJsonAsync("/api/alert-rules",
            $$"""{"target":"group:alert-late","metric":"score","threshold":10,"coolDown":"PT1H","webhook":"{{receiver.Url("/late")}}","secret":"{{Secret}}"}""")).JsonAsync(HttpStatusCode.Created);
        await (await Api.PostJsonAsync("/api/events", Outage("alert-late-1", "alert-late-a", Now, 30_000))).JsonAsync();

        var delivered = Assert.Single(await ReceivedAsync("/late", 1));
        Assert.Contains("\"target\":\"group:alert-late\"", delivered.Body);
    }
}
