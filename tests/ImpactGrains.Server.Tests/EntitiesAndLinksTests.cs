using System.Net;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class EntitiesAndLinksTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    [Fact]
    public async Task Put_creates_then_updates_an_entity()
    {
        var created = await Api.PutJsonAsync("/api/entities/acme", """{"name":"Acme","kind":"company","tags":["retail","retail"]}""");
        var body = await created.JsonAsync(HttpStatusCode.Created);
        Assert.Equal("/api/entities/acme", created.Headers.Location?.OriginalString);
        Assert.Equal(("acme", "Acme", "company"), (body.GetProperty("id").GetString(), body.GetProperty("name").GetString(), body.GetProperty("kind").GetString()));
        Assert.Equal(["retail"], body.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        var updated = await (await Api.PutJsonAsync("/api/entities/acme", """{"name":"Acme Corp","kind":"organization"}""")).JsonAsync();
        Assert.Equal("Acme Corp", updated.GetProperty("name").GetString());
        Assert.Equal("organization", updated.GetProperty("kind").GetString());

        var fetched = await Api.GetJsonAsync("/api/entities/acme");
        Assert.Equal("Acme Corp", fetched.GetProperty("name").GetString());
        Assert.Equal(0, fetched.GetProperty("links").GetArrayLength());

        var list = await Api.GetJsonAsync("/api/entities?q=acme");
        var entry = list.EnumerateArray().Single(e => e.GetProperty("id").GetString() == "acme");
        Assert.Equal(0, entry.GetProperty("score").GetDouble());
    }

    [Theory]
    [InlineData("/api/entities/Bad_Id", """{"name":"x","kind":"company"}""", "id:")]
    [InlineData("/api/entities/-dash", """{"name":"x","kind":"company"}""", "id:")]
    [InlineData("/api/entities/ok-id", """{"kind":"company"}""", "name:")]
    [InlineData("/api/entities/ok-id", """{"name":"x","kind":"planet"}""", "kind:")]
    [InlineData("/api/entities/ok-id", """{"name":"x","kind":"company","tags":"one"}""", "tags:")]
    [InlineData("/api/entities/ok-id", """{"name":"x","kind":"company","tags":[1]}""", "tags:")]
    [InlineData("/api/entities/ok-id", """{"name":"x","kind":""", "not valid JSON")]
    [InlineData("/api/entities/ok-id", """[1]""", "JSON object")]
    public async Task A_bad_entity_is_a_400_problem(string url, string body, string expected)
    {
        var detail = await (await Api.PutJsonAsync(url, body)).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
        await (await Api.GetAsync("/api/entities/ok-id")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_415_problem()
    {
        var response = await Api.PutAsync("/api/entities/plain", new StringContent("name=x", System.Text.Encoding.UTF8, "text/plain"));
        await response.ProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("/api/entities/nobody")]
    [InlineData("/api/entities/nobody/impact")]
    [InlineData("/api/entities/nobody/explain")]
    [InlineData("/api/entities/nobody/history")]
    [InlineData("/api/entities/nobody/events")]
    [InlineData("/api/entities/NOT_AN_ID/impact")]
    public async Task An_unknown_entity_is_a_404_problem_on_every_route(string url)
    {
        var detail = await (await Api.GetAsync(url)).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("no entity", detail);
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem()
    {
        await (await Api.GetAsync("/api/nothing-here")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Links_are_created_updated_listed_and_deleted()
    {
        await Api.RegisterAsync("link-boss", "person");
        await Api.RegisterAsync("link-co");

        var created = await Api.PutJsonAsync("/api/links", """{"from":"link-boss","to":"link-co","weight":0.5,"relation":"ceo"}""");
        var link = await created.JsonAsync(HttpStatusCode.Created);
        Assert.Equal(0.5, link.GetProperty("weight").GetDouble());
        var updated = await (await Api.PutJsonAsync("/api/links", """{"from":"link-boss","to":"link-co","weight":0.75,"relation":"founder"}""")).JsonAsync();
        Assert.Equal("founder", updated.GetProperty("relation").GetString());

        var links = (await Api.GetJsonAsync("/api/entities/link-co")).GetProperty("links").EnumerateArray().ToList();
        var only = Assert.Single(links);
        Assert.Equal(("link-boss", "link-co", 0.75), (only.GetProperty("from").GetString(), only.GetProperty("to").GetString(), only.GetProperty("weight").GetDouble()));
        Assert.Single((await Api.GetJsonAsync("/api/entities/link-boss")).GetProperty("links").EnumerateArray());

        Assert.Equal(HttpStatusCode.NoContent, (await Api.DeleteAsync("/api/links?from=link-boss&to=link-co")).StatusCode);
        await (await Api.DeleteAsync("/api/links?from=link-boss&to=link-co")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty((await Api.GetJsonAsync("/api/entities/link-co")).GetProperty("links").EnumerateArray());
    }

    [Theory]
    [InlineData("""{"from":"link-a","to":"link-b","weight":0,"relation":"r"}""", HttpStatusCode.BadRequest, "weight:")]
    [InlineData("""{"from":"link-a","to":"link-b","weight":1.01,"relation":"r"}""", HttpStatusCode.BadRequest, "weight:")]
    [InlineData("""{"from":"link-a","to":"link-b","weight":"0.5","relation":"r"}""", HttpStatusCode.BadRequest, "weight:")]
    [InlineData("""{"from":"link-a","to":"link-b","weight":0.5}""", HttpStatusCode.BadRequest, "relation:")]
    [InlineData("""{"from":"link-a","to":"link-a","weight":0.5,"relation":"r"}""", HttpStatusCode.BadRequest, "different")]
    [InlineData("""{"from":"link-a","to":"ghost","weight":0.5,"relation":"r"}""", HttpStatusCode.NotFound, "ghost")]
    public async Task A_bad_link_is_refused_with_a_problem(string body, HttpStatusCode status, string expected)
    {
        await Api.RegisterAsync("link-a");
        await Api.RegisterAsync("link-b");
        Assert.Contains(expected, await (await Api.PutJsonAsync("/api/links", body)).ProblemAsync(status));
    }

    [Fact]
    public async Task Deleting_a_link_needs_both_ends()
    {
        await (await Api.DeleteAsync("/api/links?from=link-a")).ProblemAsync(HttpStatusCode.BadRequest);
        await (await Api.DeleteAsync("/api/links?from=ghost&to=link-a")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Many_entities_register_in_one_request_each_judged_on_its_own_and_again_changes_nothing()
    {
        var body = """
            [{"id":"bulk-a","name":"Bulk A","kind":"company","tags":["x"]},
             {"id":"Bad Id","name":"Nope","kind":"company"},
             {"id":"bulk-b","name":"Bulk B","kind":"person"},
             {"id":"bulk-c","name":"Bulk C","kind":"planet"},
             7,
             {"name":"no id","kind":"company"}]
            """;
        var result = await (await fixture.Http.PutJsonAsync("/api/entities", body)).JsonAsync();
        Assert.Equal(2, result.GetProperty("upserted").GetInt32());
        var rejected = result.GetProperty("rejected").EnumerateArray().Select(r => (r.GetProperty("index").GetInt32(), r.GetProperty("error").GetString()!)).ToList();
        Assert.Equal([1, 3, 4, 5], rejected.Select(r => r.Item1));
        Assert.StartsWith("id:", rejected[0].Item2);
        Assert.StartsWith("kind:", rejected[1].Item2);
        Assert.Contains("JSON object", rejected[2].Item2);
        Assert.StartsWith("id:", rejected[3].Item2);
        Assert.Equal("Bulk B", (await fixture.Http.GetJsonAsync("/api/entities/bulk-b")).GetProperty("name").GetString());

        // The same again is idempotent; NDJSON works alike and may change an entity.
        Assert.Equal(2, (await (await fixture.Http.PutJsonAsync("/api/entities", body)).JsonAsync()).GetProperty("upserted").GetInt32());
        var ndjson = "{\"id\":\"bulk-a\",\"name\":\"Bulk A2\",\"kind\":\"company\"}\n\n{\"id\":\"bulk-d\",\"name\":\"Bulk D\",\"kind\":\"product\"}\nnot json\n";
        var lines = await (await fixture.Http.PutAsync("/api/entities", new StringContent(ndjson, System.Text.Encoding.UTF8, "application/x-ndjson"))).JsonAsync();
        Assert.Equal(2, lines.GetProperty("upserted").GetInt32());
        Assert.Equal(2, lines.GetProperty("rejected")[0].GetProperty("index").GetInt32());
        Assert.Equal("Bulk A2", (await fixture.Http.GetJsonAsync("/api/entities/bulk-a")).GetProperty("name").GetString());

        // Links in bulk: unknown ends and bad weights are rejected one by one.
        var links = await (await fixture.Http.PutJsonAsync("/api/links", """
            [{"from":"bulk-b","to":"bulk-a","weight":0.5,"relation":"ceo"},
             {"from":"bulk-b","to":"nobody-here","weight":0.5,"relation":"ceo"},
             {"from":"bulk-a","to":"bulk-d","weight":2,"relation":"makes"}]
            """)).JsonAsync();
        Assert.Equal(1, links.GetProperty("upserted").GetInt32());
        Assert.Equal([1, 2], links.GetProperty("rejected").EnumerateArray().Select(r => r.GetProperty("index").GetInt32()));
        Assert.Contains("nobody-here", links.GetProperty("rejected")[0].GetProperty("error").GetString());
        Assert.Single((await fixture.Http.GetJsonAsync("/api/entities/bulk-a")).GetProperty("links").EnumerateArray());
    }

    [Fact]
    public async Task The_entity_list_pages_in_id_order_and_searches_by_id_or_name()
    {
        var entities = Enumerable.Range(0, 7).Select(i => $"{{\"id\":\"page-{i}\",\"name\":\"{(i % 2 == 0 ? "Even" : "Odd")} Pager {i}\",\"kind\":\"{(i < 5 ? "company" : "person")}\"}}");
        await (await fixture.Http.PutJsonAsync("/api/entities", "[" + string.Join(",", entities) + "]")).JsonAsync();
        await (await fixture.Http.PostJsonAsync("/api/events", Outage("page-3-outage", "page-3", "2025-03-10T14:00:00Z", 40_000))).JsonAsync();

        var ids = new List<string>();
        var url = "/api/entities?q=pager&limit=3";
        var pages = 0;
        while (url is not null)
        {
            var response = await fixture.Http.GetAsync(url);
            var page = await response.JsonAsync();
            ids.AddRange(page.EnumerateArray().Select(e => e.GetProperty("id").GetString()!));
            url = response.Headers.TryGetValues("Link", out var link) ? link.Single().Split('<', '>')[1] : null;
            pages++;
        }

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"page-{i}"), ids);
        Assert.Equal(3, pages); // 3 + 3 + 1: the last page is short, so it names no next one

        var odd = (await fixture.Http.GetJsonAsync("/api/entities?q=ODD%20pager")).EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToList();
        Assert.Equal(["page-1", "page-3", "page-5"], odd);
        var people = (await fixture.Http.GetJsonAsync("/api/entities?q=page-&kind=person")).EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToList();
        Assert.Equal(["page-5", "page-6"], people);

        // Scores come from the leaderboard partitions, which see the event within a moment.
        var impact = (await fixture.Http.GetJsonAsync("/api/entities/page-3/impact")).GetProperty("score").GetDouble();
        double listed = 0;
        for (var i = 0; i < 100 && listed == 0; i++)
        {
            listed = (await fixture.Http.GetJsonAsync("/api/entities?q=page-3")).EnumerateArray().Single().GetProperty("score").GetDouble();
            await Task.Delay(100);
        }

        Assert.Equal(impact, listed, 2);
        await (await fixture.Http.GetAsync("/api/entities?limit=0")).ProblemAsync(HttpStatusCode.BadRequest);
        await (await fixture.Http.GetAsync("/api/entities?kind=planet")).ProblemAsync(HttpStatusCode.BadRequest);
    }
}

[Collection(ServerCollection.Name)]
public sealed class HealthTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("/health/live", "{\"status\":\"Healthy\",\"checks\":{}}")]
    [InlineData("/health/ready", "\"silo\":{\"status\":\"Healthy\"")]
    public async Task Health_endpoints_report_a_live_and_ready_silo(string url, string expected)
    {
        var response = await fixture.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains(expected, body);
        if (url.EndsWith("ready"))
        {
            Assert.Contains("\"storage\":{\"status\":\"Healthy\"", body);
        }
    }
}
