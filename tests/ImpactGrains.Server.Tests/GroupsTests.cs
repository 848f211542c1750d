using System.Net;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class GroupsTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;
    private const string At = "2025-03-11T00:00:00Z";

    private async Task<Dictionary<string, double>> SetUpAsync(string prefix)
    {
        foreach (var id in new[] { $"{prefix}-a", $"{prefix}-b", $"{prefix}-c" })
        {
            await Api.RegisterAsync(id);
        }

        await (await Api.PostJsonAsync("/api/events", "[" + string.Join(",",
            Outage($"{prefix}-1", $"{prefix}-a", "2025-03-10T14:00:00Z", 39021),
            Outage($"{prefix}-2", $"{prefix}-b", "2025-03-10T16:00:00Z", 3000),
            Outage($"{prefix}-3", $"{prefix}-c", "2025-03-10T20:00:00Z", 800)) + "]")).JsonAsync();
        var scores = new Dictionary<string, double>();
        foreach (var id in new[] { "a", "b", "c" })
        {
            scores[id] = (await Api.GetJsonAsync($"/api/entities/{prefix}-{id}/impact?at={At}")).GetProperty("score").GetDouble();
        }

        return scores;
    }

    [Fact]
    public async Task A_noisy_or_group_combines_its_members_as_independent_chances_of_harm()
    {
        var s = await SetUpAsync("grp-or");
        var put = await Api.PutJsonAsync("/api/groups/grp-or", """{"name":"Portfolio","method":"noisy-or","members":["grp-or-a",{"entity":"grp-or-b","weight":0.5},"grp-or-c"]}""");
        var created = await put.JsonAsync(HttpStatusCode.Created);
        Assert.Equal("noisy-or", created.GetProperty("method").GetString());

        var impact = await Api.GetJsonAsync($"/api/groups/grp-or/impact?at={At}");
        var expected = 100 * (1 - (1 - s["a"] / 100) * (1 - 0.5 * s["b"] / 100) * (1 - s["c"] / 100));
        Assert.Equal(expected, impact.GetProperty("score").GetDouble(), 9);
        var members = impact.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(3, members.Count);
        Assert.Equal(1, members.Sum(m => m.GetProperty("share").GetDouble()), 9);
        Assert.Equal(s["b"], members[1].GetProperty("score").GetDouble(), 9);

        var explain = await Api.GetJsonAsync($"/api/groups/grp-or/explain?at={At}");
        var contributions = explain.GetProperty("contributions").EnumerateArray().ToList();
        Assert.Equal(3, contributions.Count);
        Assert.Equal("grp-or-1", contributions[0].GetProperty("eventId").GetString());
        Assert.Equal("grp-or-a", contributions[0].GetProperty("member").GetString());
        Assert.True(contributions.Sum(c => c.GetProperty("share").GetDouble()) <= 1 + 1e-12);
        Assert.Equal(impact.GetProperty("score").GetDouble(), contributions.Sum(c => c.GetProperty("contribution").GetDouble()), 6);
    }

    [Fact]
    public async Task Max_and_weighted_sum_groups_follow_their_formulas_and_history_matches_impact()
    {
        var s = await SetUpAsync("grp-mx");
        await (await Api.PutJsonAsync("/api/groups/grp-mx", """{"name":"Worst","method":"max","members":["grp-mx-a","grp-mx-b","grp-mx-c"]}""")).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(s.Values.Max(), (await Api.GetJsonAsync($"/api/groups/grp-mx/impact?at={At}")).GetProperty("score").GetDouble(), 9);

        // Replacing the definition answers 200 and takes effect at once.
        await (await Api.PutJsonAsync("/api/groups/grp-mx", """{"name":"Sum","method":"weighted-sum","members":["grp-mx-b","grp-mx-c"]}""")).JsonAsync();
        double Raw(double score) => -10 * Math.Log(1 - score / 100);
        var expected = 100 * (1 - Math.Exp(-(Raw(s["b"]) + Raw(s["c"])) / 10));
        Assert.Equal(expected, (await Api.GetJsonAsync($"/api/groups/grp-mx/impact?at={At}")).GetProperty("score").GetDouble(), 6);

        var history = await Api.GetJsonAsync("/api/groups/grp-mx/history?from=2025-03-10T12:00:00Z&to=2025-03-11T00:00:00Z&step=PT6H");
        var points = history.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(3, points.Count);
        Assert.Equal(expected, points[^1].GetProperty("score").GetDouble(), 6);
        Assert.Equal(0, points[0].GetProperty("score").GetDouble());
    }

    [Fact]
    public async Task A_group_scores_each_region_by_combining_its_members_scores_there()
    {
        foreach (var id in new[] { "grp-rg-a", "grp-rg-b" })
        {
            await Api.RegisterAsync(id);
        }

        await (await Api.PostJsonAsync("/api/events", "[" + string.Join(",",
            Outage("grp-rg-1", "grp-rg-a", "2025-03-10T14:00:00Z", 39021, "US"),
            Outage("grp-rg-2", "grp-rg-a", "2025-03-10T15:00:00Z", 4000, "DE"),
            Outage("grp-rg-3", "grp-rg-b", "2025-03-10T16:00:00Z", 9000, "US"),
            Outage("grp-rg-4", "grp-rg-b", "2025-03-10T17:00:00Z", 2000, "CN")) + "]")).JsonAsync();
        var a = (await Api.GetJsonAsync($"/api/entities/grp-rg-a/impact?at={At}")).GetProperty("regions");
        var b = (await Api.GetJsonAsync($"/api/entities/grp-rg-b/impact?at={At}")).GetProperty("regions");
        await (await Api.PutJsonAsync("/api/groups/grp-rg", """{"name":"Regions","method":"noisy-or","members":["grp-rg-a",{"entity":"grp-rg-b","weight":0.5}]}""")).JsonAsync(HttpStatusCode.Created);

        var regions = (await Api.GetJsonAsync($"/api/groups/grp-rg/impact?at={At}")).GetProperty("regions");
        Assert.Equal(["CN", "DE", "US"], regions.EnumerateObject().Select(r => r.Name).Order().ToArray());
        double Region(System.Text.Json.JsonElement scores, string code) => scores.TryGetProperty(code, out var v) ? v.GetDouble() : 0;
        foreach (var code in new[] { "US", "DE", "CN" })
        {
            var expected = 100 * (1 - (1 - Region(a, code) / 100) * (1 - 0.5 * Region(b, code) / 100));
            Assert.Equal(expected, regions.GetProperty(code).GetDouble(), 9);
        }

        // With max, a region's score is its worst member's there, weighted.
        await (await Api.PutJsonAsync("/api/groups/grp-rg", """{"name":"Regions","method":"max","members":["grp-rg-a",{"entity":"grp-rg-b","weight":0.5}]}""")).JsonAsync();
        regions = (await Api.GetJsonAsync($"/api/groups/grp-rg/impact?at={At}")).GetProperty("regions");
        Assert.Equal(Math.Max(Region(a, "US"), 0.5 * Region(b, "US")), regions.GetProperty("US").GetDouble(), 9);
        Assert.Equal(0.5 * Region(b, "CN"), regions.GetProperty("CN").GetDouble(), 9);

        // Before any event, no region.
        Assert.Empty((await Api.GetJsonAsync("/api/groups/grp-rg/impact?at=2020-01-01T00:00:00Z")).GetProperty("regions").EnumerateObject());
    }

    [Theory]
    [InlineData("""{"name":"g","method":"average","members":["grp-v-a"]}""", HttpStatusCode.BadRequest, "method:")]
    [InlineData("""{"name":"g","method":"max","members":[]}""", HttpStatusCode.BadRequest, "members:")]
    [InlineData("""{"name":"g","method":"max","members":["grp-v-a","grp-v-a"]}""", HttpStatusCode.BadRequest, "twice")]
    [InlineData("""{"name":"g","method":"max","members":[{"entity":"grp-v-a","weight":2}]}""", HttpStatusCode.BadRequest, "weight")]
    [InlineData("""{"name":"g","method":"max","members":["Not Valid"]}""", HttpStatusCode.BadRequest, "members[0]")]
    [InlineData("""{"method":"max","members":["grp-v-a"]}""", HttpStatusCode.BadRequest, "name:")]
    [InlineData("""{"name":"g","method":"max","members":["grp-v-nobody"]}""", HttpStatusCode.NotFound, "grp-v-nobody")]
    public async Task A_bad_group_is_refused_with_a_problem(string body, HttpStatusCode status, string expected)
    {
        await Api.RegisterAsync("grp-v-a");
        Assert.Contains(expected, await (await Api.PutJsonAsync("/api/groups/grp-v", body)).ProblemAsync(status));
    }

    [Theory]
    [InlineData("/api/groups/no-such-group")]
    [InlineData("/api/groups/no-such-group/impact")]
    [InlineData("/api/groups/no-such-group/explain")]
    [InlineData("/api/groups/no-such-group/history")]
    public async Task An_unknown_group_is_a_404_problem(string url)
    {
        await (await Api.GetAsync(url)).ProblemAsync(HttpStatusCode.NotFound);
    }
}
