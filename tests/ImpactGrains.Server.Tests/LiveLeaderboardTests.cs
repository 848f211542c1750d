using System.Diagnostics;
using System.Text.Json;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class LiveLeaderboardTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    private async Task<List<(string Entity, double Score)>> BoardAsync(string query) =>
        (await Api.GetJsonAsync($"/api/leaderboard?{query}")).GetProperty("entries").EnumerateArray()
            .Select(e => (e.GetProperty("entity").GetString()!, e.GetProperty("score").GetDouble())).ToList();

    private async Task<List<(string Entity, double Score)>> EventuallyAsync(string query, Func<List<(string Entity, double Score)>, bool> done)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var board = await BoardAsync(query);
            if (done(board) || deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                return board;
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task The_live_ranking_moves_when_an_event_is_acknowledged_and_agrees_with_the_entities()
    {
        foreach (var id in new[] { "live-a", "live-b", "live-c" })
        {
            await Api.RegisterAsync(id, "product");
        }

        var now = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        await (await Api.PostJsonAsync("/api/events", "[" + string.Join(",",
            Outage("live-a-1", "live-a", now, 2000, "FR"),
            Outage("live-b-1", "live-b", now, 8000, "FR"),
            Outage("live-c-1", "live-c", now, 500)) + "]")).JsonAsync();

        var board = await EventuallyAsync("kind=product&limit=3", b => b.Count == 3);
        Assert.Equal(["live-b", "live-a", "live-c"], board.Select(e => e.Entity));

        // The live board agrees with each entity's own impact (both decayed to their own instant).
        var impact = (await Api.GetJsonAsync("/api/entities/live-b/impact")).GetProperty("score").GetDouble();
        Assert.Equal(impact, board[0].Score, 2);

        // A big outage at live-c moves it to the top without any reload.
        await (await Api.PostJsonAsync("/api/events", Outage("live-c-2", "live-c", now, 90_000))).JsonAsync();
        board = await EventuallyAsync("kind=product&limit=3", b => b.FirstOrDefault().Entity == "live-c");
        Assert.Equal("live-c", board[0].Entity);

        // By region: only live-a and live-b had events in FR.
        var france = await EventuallyAsync("kind=product&region=fr&limit=10", b => b.Count == 2);
        Assert.Equal(["live-b", "live-a"], france.Select(e => e.Entity));

        // The live board and the exact one (as of an instant, from every entity) rank alike.
        var at = Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"));
        var exact = await BoardAsync($"kind=product&limit=3&at={at}");
        Assert.Equal(board.Select(e => e.Entity), exact.Select(e => e.Entity));
    }

    [Fact]
    public async Task Ranking_by_category_and_region_at_once_is_refused()
    {
        var response = await Api.GetAsync("/api/leaderboard?category=market&region=US");
        Assert.Contains("not both", await response.ProblemAsync(System.Net.HttpStatusCode.BadRequest));
        await (await Api.GetAsync("/api/leaderboard?region=XX")).ProblemAsync(System.Net.HttpStatusCode.BadRequest);
    }
}
