using System.Net;

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

        var list = await Api.GetJsonAsync("/api/entities");
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
