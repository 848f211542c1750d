using System.Net;
using System.Text;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class EventsTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    private async Task<int> EventCountAsync(string entity) =>
        (await Api.GetJsonAsync($"/api/entities/{entity}/impact")).GetProperty("eventCount").GetInt32();

    [Fact]
    public async Task One_event_is_accepted_and_counted()
    {
        await Api.RegisterAsync("ev-one");
        var result = await (await Api.PostJsonAsync("/api/events", Outage("ev-one-1", "ev-one", "2025-03-10T14:00:00Z", 39021))).JsonAsync();
        Assert.Equal((1, 0, 0), (result.GetProperty("accepted").GetInt32(), result.GetProperty("duplicates").GetInt32(), result.GetProperty("rejected").GetArrayLength()));
        Assert.Equal(1, await EventCountAsync("ev-one"));
    }

    [Fact]
    public async Task Each_event_in_an_array_is_judged_on_its_own()
    {
        await Api.RegisterAsync("ev-array");
        var body = "[" + string.Join(",",
            Outage("ev-array-1", "ev-array", "2025-03-10T14:00:00Z", 100),
            """{"id":"ev-array-2","entity":"ev-array","type":"outage","occurredAt":"yesterday","data":{"reports":1}}""",
            Outage("ev-array-3", "unregistered", "2025-03-10T14:00:00Z", 100),
            """{"id":"ev-array-4","entity":"ev-array","type":"volcano","occurredAt":"2025-03-10T14:00:00Z"}""",
            """{"id":"ev-array-5","entity":"ev-array","type":"sales-change","occurredAt":"2025-03-10T14:00:00Z","data":{"percent":-250}}""",
            """{"id":"ev-array-6","entity":"ev-array","type":"outage","occurredAt":"2025-03-10T14:00:00Z"}""",
            "42",
            Outage("ev-array-1", "ev-array", "2025-03-10T14:00:00Z", 100),
            Outage("ev-array-9", "ev-array", "2025-03-10T15:00:00Z", 100)) + "]";

        var result = await (await Api.PostJsonAsync("/api/events", body)).JsonAsync();
        Assert.Equal(2, result.GetProperty("accepted").GetInt32());
        Assert.Equal(1, result.GetProperty("duplicates").GetInt32());
        var rejected = result.GetProperty("rejected").EnumerateArray()
            .Select(r => (Index: r.GetProperty("index").GetInt32(), Id: r.GetProperty("id").GetString(), Error: r.GetProperty("error").GetString()!))
            .ToList();
        Assert.Equal([1, 2, 3, 4, 5, 6], rejected.Select(r => r.Index));
        Assert.Equal(["ev-array-2", "ev-array-3", "ev-array-4", "ev-array-5", "ev-array-6", null], rejected.Select(r => r.Id));
        Assert.StartsWith("occurredAt:", rejected[0].Error);
        Assert.Contains("unknown entity 'unregistered'", rejected[1].Error);
        Assert.StartsWith("type:", rejected[2].Error);
        Assert.StartsWith("data.percent:", rejected[3].Error);
        Assert.StartsWith("data.reports:", rejected[4].Error);
        Assert.Contains("JSON object", rejected[5].Error);
        Assert.Equal(2, await EventCountAsync("ev-array"));
    }

    [Fact]
    public async Task Ndjson_lines_are_indexed_among_the_non_blank_lines_and_a_broken_line_is_refused_alone()
    {
        await Api.RegisterAsync("ev-nd");
        var body = string.Join("\n",
            Outage("ev-nd-1", "ev-nd", "2025-03-10T14:00:00Z", 100),
            "",
            "   ",
            "{\"id\":\"ev-nd-broken\",",
            Outage("ev-nd-2", "ev-nd", "2025-03-10T14:00:00Z", 200) + "\r",
            "",
            Outage("ev-nd-3", "ev-nd", "2025-03-10T14:00:00Z", 300));
        var result = await (await Api.PostNdjsonAsync("/api/events", body + "\n")).JsonAsync();
        Assert.Equal(2 + 1, result.GetProperty("accepted").GetInt32());
        var rejected = Assert.Single(result.GetProperty("rejected").EnumerateArray());
        Assert.Equal(1, rejected.GetProperty("index").GetInt32());
        Assert.Contains("not valid JSON", rejected.GetProperty("error").GetString());
        Assert.Equal(3, await EventCountAsync("ev-nd"));
    }

    [Fact]
    public async Task Sending_the_same_events_again_counts_them_once()
    {
        await Api.RegisterAsync("ev-dup");
        var body = "[" + string.Join(",", Enumerable.Range(0, 10).Select(i => Outage($"ev-dup-{i}", "ev-dup", "2025-03-10T14:00:00Z", 100 * i))) + "]";
        var first = await (await Api.PostJsonAsync("/api/events", body)).JsonAsync();
        var impact = await Api.GetJsonAsync("/api/entities/ev-dup/impact?at=2025-03-11T00:00:00Z");
        var second = await (await Api.PostJsonAsync("/api/events", body)).JsonAsync();

        Assert.Equal((10, 0), (first.GetProperty("accepted").GetInt32(), first.GetProperty("duplicates").GetInt32()));
        Assert.Equal((0, 10), (second.GetProperty("accepted").GetInt32(), second.GetProperty("duplicates").GetInt32()));
        var again = await Api.GetJsonAsync("/api/entities/ev-dup/impact?at=2025-03-11T00:00:00Z");
        Assert.Equal(impact.GetProperty("score").GetDouble(), again.GetProperty("score").GetDouble());
        Assert.Equal(10, again.GetProperty("eventCount").GetInt32());
    }

    [Theory]
    [InlineData("{\"id\":", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("\"just a string\"", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("id=1", "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("{}", "text/plain", HttpStatusCode.UnsupportedMediaType)]
    public async Task A_body_that_cannot_be_read_is_refused_whole(string body, string contentType, HttpStatusCode status)
    {
        var response = await Api.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, contentType));
        await response.ProblemAsync(status);
    }

    [Fact]
    public async Task A_body_too_large_or_with_too_many_events_is_a_413_and_stores_nothing()
    {
        await Api.RegisterAsync("ev-big");
        // The fixture's server allows 64 KiB and 100 events per request.
        var tooMany = "[" + string.Join(",", Enumerable.Range(0, 101).Select(i => Outage($"ev-big-{i}", "ev-big", "2025-03-10T14:00:00Z", 1))) + "]";
        await (await Api.PostJsonAsync("/api/events", tooMany)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        var tooManyLines = string.Join("\n", Enumerable.Range(0, 101).Select(i => Outage($"ev-big-{i}", "ev-big", "2025-03-10T14:00:00Z", 1)));
        await (await Api.PostNdjsonAsync("/api/events", tooManyLines)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        var padded = Outage("ev-big-huge", "ev-big", "2025-03-10T14:00:00Z", 1).Replace("\"region\"", $"\"padding\":\"{new string('a', 70_000)}\",\"region\"");
        await (await Api.PostJsonAsync("/api/events", padded)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal(0, await EventCountAsync("ev-big"));
    }

    [Fact]
    public async Task The_events_route_lists_an_entitys_events_newest_first()
    {
        await Api.RegisterAsync("ev-list");
        var body = "[" + string.Join(",", Enumerable.Range(1, 5).Select(i => Outage($"ev-list-{i}", "ev-list", $"2025-03-0{i}T12:00:00Z", i))) + "]";
        await (await Api.PostJsonAsync("/api/events", body)).JsonAsync();

        var page = await Api.GetJsonAsync("/api/entities/ev-list/events?limit=2");
        Assert.Equal(["ev-list-5", "ev-list-4"], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
        var first = page.GetProperty("events")[0];
        Assert.Equal(5, first.GetProperty("sequence").GetInt64());
        Assert.Equal("outage", first.GetProperty("type").GetString());
        Assert.Equal(5, first.GetProperty("data").GetProperty("reports").GetInt64());

        var older = await Api.GetJsonAsync("/api/entities/ev-list/events?limit=10&before=2025-03-04T12:00:00Z");
        Assert.Equal(["ev-list-3", "ev-list-2", "ev-list-1"], older.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()));

        await (await Api.GetAsync("/api/entities/ev-list/events?limit=0")).ProblemAsync(HttpStatusCode.BadRequest);
        await (await Api.GetAsync("/api/entities/ev-list/events?before=soon")).ProblemAsync(HttpStatusCode.BadRequest);
    }
}
