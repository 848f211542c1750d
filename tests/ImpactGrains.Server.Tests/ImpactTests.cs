using System.Net;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ImpactTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    private async Task SetUpAsync(string prefix)
    {
        await Api.RegisterAsync($"{prefix}-boss", "person");
        await Api.RegisterAsync($"{prefix}-co");
        await (await Api.PutJsonAsync("/api/links", $$"""{"from":"{{prefix}}-boss","to":"{{prefix}}-co","weight":0.5,"relation":"ceo"}""")).JsonAsync(HttpStatusCode.Created);
        var events = new[]
        {
            Outage($"{prefix}-o1", $"{prefix}-co", "2025-03-10T14:00:00Z", 39021),
            Outage($"{prefix}-o2", $"{prefix}-co", "2025-03-10T16:30:00Z", 20000, "DE"),
            $$$"""{"id":"{{{prefix}}}-s1","entity":"{{{prefix}}}-co","type":"sales-change","occurredAt":"2025-03-05T09:00:00Z","region":"DE","data":{"percent":-76}}""",
            $$$"""{"id":"{{{prefix}}}-nw","entity":"{{{prefix}}}-boss","type":"net-worth-change","occurredAt":"2025-03-10T22:00:00Z","data":{"deltaUsd":-132000000000,"netWorthUsd":301000000000}}""",
        };
        await (await Api.PostJsonAsync("/api/events", "[" + string.Join(",", events) + "]")).JsonAsync();
    }

    [Fact]
    public async Task Impact_reports_the_score_its_parts_peak_and_trend()
    {
        await SetUpAsync("imp");
        var impact = await Api.GetJsonAsync("/api/entities/imp-co/impact?at=2025-03-11T00:00:00Z");

        Assert.Equal("imp-co", impact.GetProperty("entity").GetString());
        Assert.Equal(new DateTimeOffset(2025, 3, 11, 0, 0, 0, TimeSpan.Zero), impact.GetProperty("at").GetDateTimeOffset());
        var score = impact.GetProperty("score").GetDouble();
        var direct = impact.GetProperty("direct").GetDouble();
        var inherited = impact.GetProperty("inherited").GetDouble();
        Assert.InRange(score, 1, 100);
        Assert.True(direct > 0 && inherited > 0 && score > direct && score > inherited);
        Assert.Equal(["operational", "market", "financial", "reputational"], impact.GetProperty("categories").EnumerateObject().Select(p => p.Name));
        Assert.True(impact.GetProperty("categories").GetProperty("operational").GetDouble() > 0);
        Assert.True(impact.GetProperty("categories").GetProperty("financial").GetDouble() > 0); // inherited from the boss
        Assert.Equal(0, impact.GetProperty("categories").GetProperty("reputational").GetDouble());
        Assert.Equal(["DE", "GLOBAL", "US"], impact.GetProperty("regions").EnumerateObject().Select(p => p.Name).Order());
        Assert.True(impact.GetProperty("peak").GetProperty("score").GetDouble() >= score);

        // The score jumps only at events and decays between them, so the peak is the best score at an event instant.
        var instants = new[] { "2025-03-05T09:00:00Z", "2025-03-10T14:00:00Z", "2025-03-10T16:30:00Z", "2025-03-10T22:00:00Z" };
        var atEvents = new List<(double Score, DateTimeOffset At)>();
        foreach (var instant in instants)
        {
            atEvents.Add(((await Api.GetJsonAsync($"/api/entities/imp-co/impact?at={instant}")).GetProperty("score").GetDouble(), DateTimeOffset.Parse(instant)));
        }

        var best = atEvents.MaxBy(p => p.Score);
        Assert.Equal(best.Score, impact.GetProperty("peak").GetProperty("score").GetDouble(), 9);
        Assert.Equal(best.At, impact.GetProperty("peak").GetProperty("at").GetDateTimeOffset());
        Assert.Equal(3, impact.GetProperty("eventCount").GetInt32());
        Assert.Equal("v1", impact.GetProperty("modelVersion").GetString());

        // Trend: today's score minus the score 24 h earlier, which had only the sales drop.
        var dayBefore = await Api.GetJsonAsync("/api/entities/imp-co/impact?at=2025-03-10T00:00:00Z");
        Assert.Equal(score - dayBefore.GetProperty("score").GetDouble(), impact.GetProperty("trend24h").GetDouble(), 9);
        Assert.Equal(1, dayBefore.GetProperty("eventCount").GetInt32());
    }

    [Fact]
    public async Task As_of_a_past_instant_only_earlier_events_count()
    {
        await SetUpAsync("asof");
        var before = await Api.GetJsonAsync("/api/entities/asof-co/impact?at=2025-03-01T00:00:00Z");
        Assert.Equal((0.0, 0), (before.GetProperty("score").GetDouble(), before.GetProperty("eventCount").GetInt32()));
        Assert.Equal(JsonValueKindNull, before.GetProperty("peak").GetProperty("at").ValueKind);

        var between = await Api.GetJsonAsync("/api/entities/asof-co/impact?at=2025-03-10T15:00:00%2B01:00");
        Assert.Equal(2, between.GetProperty("eventCount").GetInt32());
        Assert.Equal(0, between.GetProperty("inherited").GetDouble());
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    [Fact]
    public async Task Explain_lists_the_events_behind_the_score_with_inherited_ones_marked()
    {
        await SetUpAsync("exp");
        var explain = await Api.GetJsonAsync("/api/entities/exp-co/explain?at=2025-03-11T00:00:00Z");
        var items = explain.GetProperty("contributions").EnumerateArray().ToList();
        Assert.Equal(4, items.Count);
        var shares = items.Select(i => i.GetProperty("share").GetDouble()).ToList();
        Assert.Equal(shares.OrderByDescending(s => s), shares);
        Assert.All(shares, s => Assert.InRange(s, 0, 1));
        Assert.True(shares.Sum() <= 1 + 1e-12);
        var score = (await Api.GetJsonAsync("/api/entities/exp-co/impact?at=2025-03-11T00:00:00Z")).GetProperty("score").GetDouble();
        Assert.Equal(score, items.Sum(i => i.GetProperty("contribution").GetDouble()), 6);

        var inherited = items.Single(i => i.GetProperty("eventId").GetString() == "exp-nw");
        Assert.Equal(("exp-boss", "net-worth-change", "financial"),
            (inherited.GetProperty("entity").GetString(), inherited.GetProperty("type").GetString(), inherited.GetProperty("category").GetString()));
        Assert.All(items.Where(i => i.GetProperty("eventId").GetString() != "exp-nw"), i => Assert.Equal("exp-co", i.GetProperty("entity").GetString()));

        var top = await Api.GetJsonAsync("/api/entities/exp-co/explain?at=2025-03-11T00:00:00Z&limit=2");
        Assert.Equal(items.Take(2).Select(i => i.GetProperty("eventId").GetString()),
            top.GetProperty("contributions").EnumerateArray().Select(i => i.GetProperty("eventId").GetString()));
    }

    [Fact]
    public async Task History_gives_points_from_from_to_to_by_step()
    {
        await SetUpAsync("hist");
        var history = await Api.GetJsonAsync("/api/entities/hist-co/history?from=2025-03-10T00:00:00Z&to=2025-03-11T00:00:00Z&step=PT6H");
        var points = history.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(5, points.Count);
        Assert.Equal(new DateTimeOffset(2025, 3, 10, 0, 0, 0, TimeSpan.Zero), points[0].GetProperty("at").GetDateTimeOffset());
        Assert.Equal(new DateTimeOffset(2025, 3, 11, 0, 0, 0, TimeSpan.Zero), points[^1].GetProperty("at").GetDateTimeOffset());
        foreach (var point in points)
        {
            var at = Uri.EscapeDataString(point.GetProperty("at").GetDateTimeOffset().ToString("O"));
            var impact = await Api.GetJsonAsync($"/api/entities/hist-co/impact?at={at}");
            Assert.Equal(impact.GetProperty("score").GetDouble(), point.GetProperty("score").GetDouble(), 9);
        }
    }

    [Theory]
    [InlineData("/api/entities/hist-co/history?step=PT1S&from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z", "points")]
    [InlineData("/api/entities/hist-co/history?step=1h", "step:")]
    [InlineData("/api/entities/hist-co/history?step=P1M", "step:")]
    [InlineData("/api/entities/hist-co/history?step=PT0S", "step:")]
    [InlineData("/api/entities/hist-co/history?from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z", "from:")]
    [InlineData("/api/entities/hist-co/history?from=March", "from:")]
    [InlineData("/api/entities/hist-co/impact?at=2025-03-10", "at:")]
    [InlineData("/api/entities/hist-co/impact?at=2025-03-10T00:00:00", "at:")]
    [InlineData("/api/entities/hist-co/explain?limit=-1", "limit:")]
    [InlineData("/api/entities/hist-co/explain?limit=abc", "limit:")]
    [InlineData("/api/leaderboard?kind=planet", "kind:")]
    [InlineData("/api/leaderboard?category=vibes", "category:")]
    [InlineData("/api/leaderboard?limit=100000", "limit:")]
    public async Task Bad_query_values_are_400_problems(string url, string expected)
    {
        await Api.RegisterAsync("hist-co");
        Assert.Contains(expected, await (await Api.GetAsync(url)).ProblemAsync(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task The_leaderboard_ranks_by_score_filtered_by_kind_and_category()
    {
        await SetUpAsync("lb");
        var at = "2025-03-11T00:00:00Z";
        var board = await Api.GetJsonAsync($"/api/leaderboard?at={at}&limit=1000");
        var entries = board.GetProperty("entries").EnumerateArray().ToList();
        var scores = entries.Select(e => e.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        var company = entries.Single(e => e.GetProperty("entity").GetString() == "lb-co");
        var expected = (await Api.GetJsonAsync($"/api/entities/lb-co/impact?at={at}")).GetProperty("score").GetDouble();
        Assert.Equal(expected, company.GetProperty("score").GetDouble());
        Assert.Equal(("lb-co", "company"), (company.GetProperty("name").GetString(), company.GetProperty("kind").GetString()));

        var people = (await Api.GetJsonAsync($"/api/leaderboard?at={at}&kind=person&limit=1000")).GetProperty("entries").EnumerateArray().ToList();
        Assert.All(people, e => Assert.Equal("person", e.GetProperty("kind").GetString()));
        Assert.Contains(people, e => e.GetProperty("entity").GetString() == "lb-boss");

        var financial = (await Api.GetJsonAsync($"/api/leaderboard?at={at}&category=financial&limit=1000")).GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(financial.Select(e => e.GetProperty("score").GetDouble()).OrderByDescending(s => s), financial.Select(e => e.GetProperty("score").GetDouble()));
        Assert.Contains(financial, e => e.GetProperty("entity").GetString() == "lb-boss");
    }
}
