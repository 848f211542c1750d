using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>
/// The viewer follows /api/stream: an event posted through the API moves the leaderboard, an entity's chart and map, and a
/// comparison, without a reload.
/// </summary>
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
    [Fact]
    public async Task An_event_posted_through_the_api_adds_its_marker_region_and_line_without_a_reload()
    {
        await using var session = await Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/#/entity/spacex");
        var chart = page.GetByTestId("history-chart");
        await Expect(chart.Locator("[data-testid=marker-table] tbody tr").First).ToBeAttachedAsync();
        await Expect(page.GetByTestId("map").Locator("a.region").First).ToBeAttachedAsync();
        await Expect(page.GetByTestId("map").Locator("a.region[data-region=BR]")).ToHaveCountAsync(0);
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("connected");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");

        // A launch failure over Brazil, two minutes ago.
        var at = DateTimeOffset.UtcNow.AddMinutes(-2).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        (await Server.Http.PostAsync("/api/events", DemoData.Json($$$"""
            {"id":"browser-spacex-brazil","entity":"spacex","type":"product-failure","occurredAt":"{{{at}}}","region":"BR","data":{"severity":"critical","description":"Launch failure"}}
            """))).EnsureSuccessStatusCode();

        // Its marker, and its region on the map and in the table beside it, without a reload.
        await Expect(chart.Locator("[data-testid=marker-table] tbody tr[data-event=browser-spacex-brazil]")).ToHaveCountAsync(1, new() { Timeout = 15_000 });
        await Expect(page.GetByTestId("map").Locator("a.region[data-region=BR]")).ToHaveCountAsync(1, new() { Timeout = 15_000 });
        await Expect(page.GetByTestId("regions").Locator("tr[data-region=BR]")).ToHaveCountAsync(1);
        var counted = await chart.Locator("button.marker").EvaluateAllAsync<int[]>("ms => ms.map(m => +m.dataset.count)");
        Assert.Equal(await chart.Locator("[data-testid=marker-table] tbody tr").CountAsync(), counted.Sum());
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page was reloaded");

        // A comparison follows too: Tesla's line and its score in the legend move with a new outage.
        await page.GotoAsync("/#/compare/spacex,tesla");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        var legend = page.GetByTestId("compare-legend").Locator("li[data-entity=tesla]").GetByTestId("legend-score");
        await Expect(legend).ToHaveTextAsync(new Regex(@"^\d+\.\d now$"));
        var before = await legend.InnerTextAsync();
        (await Server.Http.PostAsync("/api/events", DemoData.Json($$$"""
            {"id":"browser-tesla-outage","entity":"tesla","type":"outage","occurredAt":"{{{at}}}","region":"US","data":{"reports":900000,"baselineReports":500,"durationMinutes":300}}
            """))).EnsureSuccessStatusCode();
        await Expect(legend).Not.ToHaveTextAsync(before, new() { Timeout = 15_000 });
        var score = (await DemoData.GetJsonAsync(Server.Http, "/api/entities/tesla/impact")).GetProperty("score").GetDouble();
        Assert.InRange(double.Parse((await legend.InnerTextAsync()).Split(' ')[0], CultureInfo.InvariantCulture), score - 0.5, score + 0.5);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page was reloaded");
        session.AssertNoErrors();
    }
}
