using System.Globalization;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>The leaderboard follows /api/stream: an event posted through the API moves it without a reload.</summary>
public sealed class LiveUpdateTests() : DemoServerAndBrowser
{
    [Fact]
    public async Task An_event_posted_through_the_api_moves_the_leaderboard_without_a_reload()
    {
        await using var session = await Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/");
        var rows = page.Locator("table.leaderboard tbody tr");
        await Expect(rows).ToHaveCountAsync(DemoData.Entities.Length);
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("connected");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        var spacexBefore = await page.Locator("tr[data-entity=spacex] [data-testid=score]").InnerTextAsync();

        // SpaceX, last of the four, is hit by a huge outage and a cyberattack.
        var now = DateTimeOffset.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var response = await Server.Http.PostAsync("/api/events", DemoData.Json($$$"""
            [{"id":"browser-spacex-outage","entity":"spacex","type":"outage","occurredAt":"{{{now}}}","region":"US","data":{"reports":2000000,"baselineReports":500,"durationMinutes":600}},
             {"id":"browser-spacex-attack","entity":"spacex","type":"cyberattack","occurredAt":"{{{now}}}","region":"US","data":{"claimed":false}},
             {"id":"browser-spacex-stock","entity":"spacex","type":"stock-change","occurredAt":"{{{now}}}","data":{"percent":-60}}]
            """));
        response.EnsureSuccessStatusCode();

        // The page moves by itself: SpaceX's score rises and its rank is the API's.
        await Expect(page.Locator("tr[data-entity=spacex] [data-testid=score]")).Not.ToHaveTextAsync(spacexBefore, new() { Timeout = 10_000 });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string[] api, shown;
        do
        {
            var board = await DemoData.GetJsonAsync(Server.Http, "/api/leaderboard");
            api = board.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("entity").GetString()!).ToArray();
            shown = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.entity)");
            if (api.SequenceEqual(shown) && shown[0] == "spacex")
            {
                break;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal("spacex", api[0]);
        Assert.Equal(api, shown);
        await Expect(page.Locator("tr[data-entity=spacex]")).ToHaveAttributeAsync("data-rank", "1");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page was reloaded");
        session.AssertNoErrors();
    }
}
