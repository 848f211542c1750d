using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>
/// The chart markers, the map and the comparison on a store of thousands of entities: a busy entity with more events
/// than the chart reads, an entity inheriting from many, a group of a thousand members. The pages must load (within
/// generous waits, no speed is asserted) and read names by id, never by paging through the list of every entity.
/// </summary>
public sealed class LargeStoreViewerTests() : DemoServerAndBrowser("--Impact:Limits:Enabled=false")
{
    private const int EntityCount = 3000;
    private const int BusyEvents = 2500;
    private const int HubSources = 20;
    private const int GroupSize = 1000;
    private static readonly string[] Regions = ["US", "DE", "CN", "FR", "GB", "JP", "IN", "BR", "ZA", "AU", "SG", "HK", "MT", "CA", "MX", "NG", "EG", "KR", "IT", "GLOBAL"];

    private static string Id(int i) => $"bulk-{i:D4}";

    private async Task FillStoreAsync()
    {
        await Parallel.ForEachAsync(Enumerable.Range(0, EntityCount), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var response = await Server.Http.PutAsync($"/api/entities/{Id(i)}", DemoData.Json($$"""{"name":"Bulk {{i}}","kind":"{{(i % 5 == 0 ? "person" : "company")}}"}"""), ct);
            response.EnsureSuccessStatusCode();
        });

        // Every entity one event somewhere in the last six days; bulk-0001 a busy one, every few minutes.
        var now = DateTimeOffset.UtcNow.AddMinutes(-1);
        var events = new List<string>();
        for (var i = 0; i < EntityCount; i++)
        {
            var at = now.AddMinutes(-(i * 37 % (6 * 24 * 60)));
            events.Add(Outage($"bulk-ev-{i}", Id(i), at, 500 + i * 7 % 20_000, Regions[i % Regions.Length]));
        }

        for (var n = 0; n < BusyEvents; n++)
        {
            events.Add(Outage($"busy-ev-{n}", Id(1), now.AddMinutes(-n * 3), 800 + n % 50, Regions[n % 3]));
        }

        foreach (var batch in events.Chunk(1000))
        {
            var response = await Server.Http.PostAsync("/api/events", DemoData.Json("[" + string.Join(',', batch) + "]"));
            response.EnsureSuccessStatusCode();
        }

        // bulk-0000 inherits from twenty others; a group of a thousand.
        for (var i = 0; i < HubSources; i++)
        {
            var response = await Server.Http.PutAsync("/api/links", DemoData.Json($$"""{"from":"{{Id(100 + i)}}","to":"{{Id(0)}}","weight":{{(0.05 * (i + 1)).ToString(CultureInfo.InvariantCulture)}},"relation":"supplier"}"""));
            response.EnsureSuccessStatusCode();
        }

        var members = string.Join(',', Enumerable.Range(0, GroupSize).Select(i => $"\"{Id(i)}\""));
        (await Server.Http.PutAsync("/api/groups/bulk-thousand", DemoData.Json($$"""{"name":"The first thousand","method":"noisy-or","members":[{{members}}]}"""))).EnsureSuccessStatusCode();
    }

    private static string Outage(string id, string entity, DateTimeOffset at, int reports, string region) =>
        $$$"""{"id":"{{{id}}}","entity":"{{{entity}}}","type":"outage","occurredAt":"{{{at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}}}","region":"{{{region}}}","data":{"reports":{{{reports}}},"baselineReports":500,"durationMinutes":30}}""";

    [Fact]
    public async Task Markers_map_and_compare_work_on_a_store_of_thousands_of_entities()
    {
        await FillStoreAsync();
        // Generous waits on a loaded two-core machine: a page must get there, however slowly.
        SetDefaultExpectTimeout(60_000);
        try
        {
            await CheckPagesAsync();
        }
        finally
        {
            SetDefaultExpectTimeout(HeadlessChromium.ExpectTimeoutMs);
        }
    }

    private async Task CheckPagesAsync()
    {
        await using var session = await Browser.OpenAsync(Server, width: 1280, height: 1000);
        var page = session.Page;
        page.SetDefaultTimeout(60_000);
        var listed = new List<string>();
        page.Request += (_, request) =>
        {
            var url = new Uri(request.Url);
            if (url.AbsolutePath == "/api/entities" && !url.Query.Contains("q=", StringComparison.Ordinal))
            {
                listed.Add(request.Url);
            }
        };

        // The leaderboard: its 25 rows; at most eight can be chosen for a comparison.
        await page.GotoAsync("/");
        var rows = page.Locator("table.leaderboard tbody tr");
        await Expect(rows).ToHaveCountAsync(25);
        var boxes = page.Locator("input.select-row");
        for (var i = 0; i < 8; i++)
        {
            await boxes.Nth(i).CheckAsync();
        }

        await Expect(page.Locator("#compare-status")).ToContainTextAsync("8 selected (at most 8)");
        await Expect(page.Locator("input.select-row:disabled")).ToHaveCountAsync(25 - 8);
        var href = (await page.GetByTestId("compare-selected").GetAttributeAsync("href"))!;
        var chosen = href.Split('?')[0]["#/compare/".Length..].Split(',');
        Assert.Equal(8, chosen.Distinct().Count());
        await page.GetByTestId("compare-selected").ClickAsync();
        await Expect(page.GetByTestId("compare-chart").Locator("figure")).ToHaveAttributeAsync("data-series", string.Join(',', chosen));
        await Expect(page.GetByTestId("compare-legend").Locator("li")).ToHaveCountAsync(8);

        // More ids than eight: the first eight are drawn and the page says what it left out.
        await page.GotoAsync($"/#/compare/{string.Join(',', Enumerable.Range(10, 10).Select(Id))}");
        await Expect(page.GetByTestId("compare-legend").Locator("li")).ToHaveCountAsync(8);
        await Expect(page.GetByTestId("compare-notes")).ToContainTextAsync("at most 8 entities are compared at once");

        // A busy entity: the chart reads its latest 2,000 events in the range, says so, and thins them into markers
        // that never overlap (a numbered marker counts the events it stands for).
        await page.GotoAsync($"/#/entity/{Id(1)}");
        var chart = page.GetByTestId("history-chart");
        await Expect(chart.Locator("figcaption")).ToContainTextAsync("only the latest 2,000 events");
        var counts = await chart.Locator("button.marker").EvaluateAllAsync<int[]>("ms => ms.map(m => +m.dataset.count)");
        Assert.Equal(2000, counts.Sum());
        Assert.InRange(counts.Length, 2, 1280 / 22);
        var lefts = (await chart.Locator("button.marker").EvaluateAllAsync<double[]>("ms => ms.map(m => parseFloat(m.style.left))")).Order().ToList();
        Assert.All(lefts.Zip(lefts.Skip(1)), pair => Assert.True(pair.Second - pair.First >= 21.5, $"markers at {pair.First} and {pair.Second} overlap"));
        await Expect(page.GetByTestId("map").Locator("a.region")).ToHaveCountAsync(3); // US, DE, CN

        // An entity inheriting from twenty: the twelve heaviest links' events are marked, and the caption says so.
        await page.GotoAsync($"/#/entity/{Id(0)}");
        await Expect(page.GetByTestId("history-chart").Locator("figcaption")).ToContainTextAsync($"the 12 most heavily linked of {HubSources} entities");
        var inherited = await page.GetByTestId("history-chart").Locator("[data-testid=marker-table] tbody tr.inherited").CountAsync();
        Assert.Equal(12, inherited);

        // A group of a thousand: its map and table match its regions, its chart is marked, and it compares its worst eight.
        await page.GotoAsync("/#/group/bulk-thousand");
        var group = await DemoData.GetJsonAsync(Server.Http, "/api/groups/bulk-thousand/impact");
        var regions = group.GetProperty("regions").EnumerateObject().ToDictionary(r => r.Name, r => r.Value.GetDouble());
        await Expect(page.GetByTestId("regions").Locator("tbody tr")).ToHaveCountAsync(regions.Count);
        await Expect(page.GetByTestId("map").Locator("a.region")).ToHaveCountAsync(regions.Keys.Count(k => k != "GLOBAL"));
        await Expect(page.GetByTestId("map-global")).ToHaveAttributeAsync("data-score", new Regex(@"^\d+\.\d$"));
        await Expect(page.GetByTestId("history-chart").Locator("button.marker").First).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Members of The first thousand" }).Locator("tbody tr")).ToHaveCountAsync(GroupSize);
        await page.GetByTestId("compare-members").ClickAsync();
        await Expect(page.GetByTestId("compare-legend").Locator("li")).ToHaveCountAsync(8);
        var members = group.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("entity").GetString()!).ToHashSet();
        var compared = (await page.GetByTestId("compare-chart").Locator("figure").GetAttributeAsync("data-series"))!.Split(',');
        Assert.Equal(8, compared.Distinct().Count());
        Assert.Subset(members, compared.ToHashSet());
        Assert.Contains(Id(1), compared); // the busy one, by far the worst hit

        Assert.Empty(listed);
        session.AssertNoErrors();
    }
}
