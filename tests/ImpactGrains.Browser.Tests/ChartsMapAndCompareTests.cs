using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>
/// The viewer's events on the history chart, its world map of region scores and its comparison of entities, on the
/// demo data in Chromium.
/// </summary>
[Collection(DemoCollection.Name)]
public sealed class ChartsMapAndCompareTests(DemoFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private async Task<List<JsonElement>> EventsOfAsync(string entity) =>
        (await DemoData.GetJsonAsync(Server.Http, $"/api/entities/{entity}/events?limit=100")).GetProperty("events").EnumerateArray().ToList();

    private static double Number(string text) =>
        double.Parse(Regex.Match(text, @"\d+\.\d").Value, CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_history_chart_marks_the_demo_events_and_a_marker_opens_its_moment()
    {
        await using var session = await fixture.Browser.OpenAsync(Server, width: 1400, height: 1000);
        var page = session.Page;
        await page.GotoAsync("/#/entity/tesla");
        var chart = page.GetByTestId("history-chart");

        // Over the default 7 days: every demo event of Tesla, and of Elon Musk, whose own events Tesla inherits.
        var own = (await EventsOfAsync("tesla")).Select(e => e.GetProperty("id").GetString()!).ToList();
        var inherited = (await EventsOfAsync("elon-musk")).Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.Equal(4, own.Count);
        Assert.Equal(2, inherited.Count);
        var rows = chart.Locator("[data-testid=marker-table] tbody tr");
        await Expect(rows).ToHaveCountAsync(own.Count + inherited.Count);
        var marked = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.event + (r.classList.contains('inherited') ? ' inherited' : ' own'))");
        Assert.Equal(own.Select(id => $"{id} own").Concat(inherited.Select(id => $"{id} inherited")).Order(), marked.Order());

        // Every one of them is on a marker; markers too close together share one that counts them.
        var markers = chart.Locator("button.marker");
        var counts = await markers.EvaluateAllAsync<int[]>("ms => ms.map(m => +m.dataset.count)");
        Assert.Equal(own.Count + inherited.Count, counts.Sum());
        await Expect(chart.Locator("figcaption")).ToContainTextAsync("6 events marked (4 own, 2 inherited)");

        // Over 24 hours the last three stand apart: Tesla's stock drop (own) and Musk's statement and net-worth fall
        // (inherited), drawn as a filled circle and as hollow diamonds.
        await page.Locator("label[for=range-24h]").ClickAsync();
        var stock = chart.Locator("button.marker[data-event=demo-tesla-stock]");
        var statement = chart.Locator("button.marker[data-event=demo-musk-statement]");
        await Expect(stock).ToHaveClassAsync(new Regex(@"\bown\b"));
        await Expect(statement).ToHaveClassAsync(new Regex(@"\binherited\b"));
        Assert.Equal("50%", await stock.Locator(".marker-shape").EvaluateAsync<string>("s => getComputedStyle(s).borderTopLeftRadius"));
        Assert.NotEqual("none", await statement.Locator(".marker-shape").EvaluateAsync<string>("s => getComputedStyle(s).transform"));

        // Hovering shows the event: its type, where it happened and its points now (as /explain counts them).
        var explain = await DemoData.GetJsonAsync(Server.Http, "/api/entities/tesla/explain?limit=100");
        var statementPoints = explain.GetProperty("contributions").EnumerateArray()
            .Single(c => c.GetProperty("eventId").GetString() == "demo-musk-statement").GetProperty("contribution").GetDouble();
        await statement.HoverAsync();
        var tip = chart.Locator(".marker-tip");
        await Expect(tip).ToBeVisibleAsync();
        await Expect(tip).ToContainTextAsync("Statement");
        await Expect(tip).ToContainTextAsync("inherited from Elon Musk");
        await Expect(tip).ToContainTextAsync("Global (no region)");
        Assert.InRange(Number(await tip.Locator(".tip-points").InnerTextAsync()), statementPoints - 0.3, statementPoints + 0.3);
        await Screenshots.SaveAsync(page, "entity-markers.png");

        // From the keyboard: the markers are one Tab stop, the arrow keys move between them, each says what it is.
        await stock.FocusAsync();
        await Expect(tip).ToContainTextAsync("Stock change");
        await page.Keyboard.PressAsync("ArrowRight");
        await Expect(page.Locator(":focus")).ToHaveAttributeAsync("data-event", "demo-musk-statement");
        await Expect(page.Locator(":focus")).ToHaveAttributeAsync("aria-label", new Regex("^Statement, inherited from Elon Musk, Global"));
        Assert.Equal(1, await chart.Locator("button.marker[tabindex='0']").CountAsync());

        // Enter shows the page as of the event's own instant: the event counts, the later one does not yet.
        var occurredAt = (await EventsOfAsync("elon-musk")).Single(e => e.GetProperty("id").GetString() == "demo-musk-statement").GetProperty("occurredAt").GetString()!;
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#time-banner")).ToContainTextAsync("Showing the past");
        var at = await page.EvaluateAsync<string>("() => new URLSearchParams(location.hash.split('?')[1]).get('at')");
        Assert.Equal(DateTimeOffset.Parse(occurredAt, CultureInfo.InvariantCulture), DateTimeOffset.Parse(at, CultureInfo.InvariantCulture));
        Assert.StartsWith("#/entity/tesla", new Uri(page.Url).Fragment, StringComparison.Ordinal);
        var then = await DemoData.GetJsonAsync(Server.Http, $"/api/entities/tesla/impact?at={Uri.EscapeDataString(at)}");
        await Expect(page.GetByTestId("score").Locator(".stat-number")).ToHaveTextAsync(DemoData.Score(then.GetProperty("score").GetDouble()));
        await Expect(page.GetByTestId("explain").Locator("tr[data-event=demo-musk-statement]")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("explain").Locator("tr[data-event=demo-musk-net-worth]")).ToHaveCountAsync(0);
        var thenRows = page.GetByTestId("history-chart").Locator("[data-testid=marker-table] tbody tr");
        await Expect(thenRows).ToHaveCountAsync(2); // over the 24 hours to then: the stock drop and the statement
        Assert.Equal(["demo-musk-statement", "demo-tesla-stock"], (await thenRows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.event)")).Order());
        await Expect(page.Locator(":focus")).ToHaveAttributeAsync("data-event", "demo-musk-statement"); // the keyboard stays on the event
        session.AssertNoErrors();
    }

    [Fact]
    public async Task A_group_chart_marks_its_members_events()
    {
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/#/group/musk-companies");
        var chart = page.GetByTestId("history-chart");
        var members = new[] { "x", "tesla", "spacex" };
        var expected = new List<string>();
        foreach (var member in members)
        {
            expected.AddRange((await EventsOfAsync(member)).Select(e => e.GetProperty("id").GetString()!));
        }

        // The members' own events, and Musk's events through the members that inherit them (one row per member).
        var rows = chart.Locator("[data-testid=marker-table] tbody tr");
        await Expect(rows.First).ToBeAttachedAsync();
        var marked = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.event)");
        Assert.Empty(expected.Except(marked));
        Assert.Contains("demo-musk-net-worth", marked);
        Assert.True(await chart.Locator("button.marker").CountAsync() > 0);
        session.AssertNoErrors();
    }

    private static int Bin(double score) => score <= 0 ? 0 : score < 10 ? 1 : score < 25 ? 2 : score < 50 ? 3 : score < 75 ? 4 : 5;

    [Fact]
    public async Task The_map_colours_the_demo_regions_and_its_table_matches_impact()
    {
        await using var session = await fixture.Browser.OpenAsync(Server, width: 1400, height: 1000);
        var page = session.Page;
        await page.GotoAsync("/#/entity/tesla");
        var impact = await DemoData.GetJsonAsync(Server.Http, "/api/entities/tesla/impact");
        var regions = impact.GetProperty("regions").EnumerateObject().ToDictionary(r => r.Name, r => r.Value.GetDouble());
        Assert.Subset(regions.Keys.ToHashSet(), new HashSet<string> { "US", "DE", "CN", "GLOBAL" });

        // The table beside the map: /impact's regions, largest first, with their scores.
        var rows = page.GetByTestId("regions").Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(regions.Count);
        var shown = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.region + '=' + r.querySelector('.num').textContent)");
        Assert.Equal(regions.OrderByDescending(r => r.Value).Select(r => r.Key), shown.Select(s => s.Split('=')[0]));
        foreach (var row in shown)
        {
            var (code, value) = (row.Split('=')[0], double.Parse(row.Split('=')[1], CultureInfo.InvariantCulture));
            Assert.InRange(value, regions[code] - 0.15, regions[code] + 0.15);
        }

        // The map: every region but GLOBAL is a country coloured by its score's step, unlike a country without impact.
        var map = page.GetByTestId("map");
        await Expect(map.Locator("a.region")).ToHaveCountAsync(regions.Count - 1);
        var noImpact = await map.Locator(".map-base path").First.EvaluateAsync<string>("p => getComputedStyle(p).fill");
        foreach (var code in new[] { "US", "DE", "CN" })
        {
            var region = map.Locator($"a.region[data-region={code}]");
            await Expect(region).ToHaveAttributeAsync("data-bin", Bin(regions[code]).ToString(CultureInfo.InvariantCulture));
            var fill = await region.Locator("path").EvaluateAsync<string>("p => getComputedStyle(p).fill");
            Assert.NotEqual(noImpact, fill);
            var legendSwatch = await page.Locator($".map-legend .swatch.bin-{Bin(regions[code])}").EvaluateAsync<string>("s => getComputedStyle(s).backgroundColor");
            Assert.Equal(legendSwatch, fill);
            await Expect(region).ToHaveAttributeAsync("aria-label", new Regex($@"\({code}\): \d+\.\d out of 100"));
        }

        // GLOBAL has no place on the map: it is shown apart, with its score.
        await Expect(map.Locator("a.region[data-region=GLOBAL]")).ToHaveCountAsync(0);
        Assert.InRange(double.Parse((await page.GetByTestId("map-global").GetAttributeAsync("data-score"))!, CultureInfo.InvariantCulture),
            regions["GLOBAL"] - 0.15, regions["GLOBAL"] + 0.15);

        // Hover and focus show a region's score; the arrow keys go from the worst-hit region down; Enter ranks by it.
        await map.Locator("a.region[data-region=US]").HoverAsync();
        await Expect(map.Locator(".map-tip")).ToContainTextAsync("United States (US)");
        var ranked = regions.Where(r => r.Key != "GLOBAL").OrderByDescending(r => r.Value).Select(r => r.Key).ToList();
        await map.Locator($"a.region[data-region={ranked[0]}]").FocusAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await Expect(page.Locator(":focus")).ToHaveAttributeAsync("data-region", ranked[1]);
        await Expect(map.Locator(".map-tip")).ToContainTextAsync($"({ranked[1]})");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Who is being hit right now");
        Assert.Contains($"region={ranked[1]}", page.Url, StringComparison.Ordinal);
        await Expect(page.GetByLabel("Region")).ToHaveValueAsync(ranked[1]);

        // The group's map shows the group's regions (its members' region scores combined).
        await page.GotoAsync("/#/group/musk-companies");
        var group = (await DemoData.GetJsonAsync(Server.Http, "/api/groups/musk-companies/impact")).GetProperty("regions")
            .EnumerateObject().ToDictionary(r => r.Name, r => r.Value.GetDouble());
        await Expect(page.GetByTestId("regions").Locator("tbody tr")).ToHaveCountAsync(group.Count);
        await Expect(page.GetByTestId("map").Locator("a.region")).ToHaveCountAsync(group.Keys.Count(k => k != "GLOBAL"));
        await Expect(page.GetByTestId("map").Locator("a.region[data-region=US]")).ToHaveAttributeAsync("data-bin", Bin(group["US"]).ToString(CultureInfo.InvariantCulture));
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Compare_draws_one_series_per_entity_chosen_on_the_leaderboard()
    {
        await using var session = await fixture.Browser.OpenAsync(Server, width: 1280, height: 1100);
        var page = session.Page;
        await page.GotoAsync("/");
        await Expect(page.Locator("table.leaderboard tbody tr")).ToHaveCountAsync(DemoData.Entities.Length);
        var compare = page.GetByTestId("compare-selected");
        await Expect(compare).ToBeHiddenAsync();
        string[] chosen = ["tesla", "elon-musk", "x", "spacex"];
        foreach (var id in chosen)
        {
            await page.Locator($"tr[data-entity={id}] input.select-row").CheckAsync();
        }

        await Expect(page.Locator("#compare-status")).ToContainTextAsync("4 selected");
        await Expect(compare).ToHaveTextAsync("Compare 4 entities");
        await compare.ClickAsync();
        Assert.EndsWith($"#/compare/{string.Join(',', chosen)}", page.Url, StringComparison.Ordinal);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Compare: Tesla, Elon Musk, X, SpaceX");

        // One line per entity, in the order chosen, each named in the legend with its score now.
        var figure = page.GetByTestId("compare-chart").Locator("figure");
        await Expect(figure).ToHaveAttributeAsync("data-series", string.Join(',', chosen));
        await Expect(page.GetByTestId("compare-chart").Locator(".u-legend .u-series")).ToHaveCountAsync(chosen.Length + 1); // and the time
        var legend = page.GetByTestId("compare-legend").Locator("li");
        await Expect(legend).ToHaveCountAsync(chosen.Length);
        Assert.Equal(chosen, await legend.EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.entity)"));
        var teslaNow = (await DemoData.GetJsonAsync(Server.Http, "/api/entities/tesla/impact")).GetProperty("score").GetDouble();
        Assert.InRange(Number(await legend.First.GetByTestId("legend-score").InnerTextAsync()), teslaNow - 0.3, teslaNow + 0.3);
        // Lines differ by dash as well as colour.
        var dashes = await legend.Locator("line").EvaluateAllAsync<string[]>("lines => lines.map(l => l.getAttribute('stroke-dasharray') ?? 'solid')");
        Assert.Equal(chosen.Length, dashes.Distinct().Count());
        var inked = await figure.Locator("canvas").EvaluateAsync<int>(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }");
        Assert.True(inked > 1000, $"the chart canvas is nearly empty ({inked} painted pixels)");
        var numberRows = figure.Locator("details table tbody tr");
        Assert.InRange(await numberRows.CountAsync(), 160, 170);
        Assert.Equal(chosen.Length + 1, await figure.Locator("details table tbody tr").First.Locator("td").CountAsync());
        await Screenshots.SaveAsync(page, "compare.png");

        // One shared range picker for all the lines.
        await page.Locator("label[for=compare-range-24h]").ClickAsync();
        await Expect(figure.Locator("details table tbody tr")).ToHaveCountAsync(97);
        await Expect(page.GetByTestId("compare-chart").Locator("figure")).ToHaveAttributeAsync("data-series", string.Join(',', chosen));

        // Removing one redraws the rest.
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove X from the comparison" }).ClickAsync();
        await Expect(page.GetByTestId("compare-chart").Locator("figure")).ToHaveAttributeAsync("data-series", "tesla,elon-musk,spacex");
        Assert.Contains("range=24h", page.Url, StringComparison.Ordinal);
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Compare_survives_an_entity_without_events_an_unknown_one_and_the_past()
    {
        (await Server.Http.PutAsync("/api/entities/browser-quiet", DemoData.Json("""{"name":"Quiet Co","kind":"company"}"""))).EnsureSuccessStatusCode();
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/#/compare/tesla,browser-quiet,nobody-here");
        var figure = page.GetByTestId("compare-chart").Locator("figure");
        await Expect(figure).ToHaveAttributeAsync("data-series", "tesla,browser-quiet");
        await Expect(page.GetByTestId("compare-legend").Locator("li[data-entity=browser-quiet]")).ToContainTextAsync("no events yet");
        await Expect(page.GetByTestId("compare-legend").Locator("li[data-entity=browser-quiet]")).ToContainTextAsync("0.0 now");
        await Expect(page.GetByTestId("compare-notes")).ToContainTextAsync("There is no entity 'nobody-here'");
        var quietColumn = await figure.Locator("details table tbody tr td:nth-child(3)").EvaluateAllAsync<string[]>("cells => cells.map(c => c.textContent)");
        Assert.NotEmpty(quietColumn);
        Assert.All(quietColumn, value => Assert.Equal("0.0", value));

        // Adding one by name from the form.
        await page.GetByLabel("Entity", new() { Exact = true }).FillAsync("SpaceX");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("compare-chart").Locator("figure")).ToHaveAttributeAsync("data-series", "tesla,browser-quiet,spacex");
        await page.GetByLabel("Entity", new() { Exact = true }).FillAsync("no-such-entity");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await Expect(page.Locator("#compare-add-error")).ToHaveTextAsync("There is no entity 'no-such-entity'.");

        // As of a past instant: the lines end there and the legend gives the scores then.
        var past = DateTimeOffset.UtcNow.AddDays(-2);
        var at = past.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        await page.GotoAsync($"/#/compare/tesla,browser-quiet?at={Uri.EscapeDataString(at)}");
        await Expect(page.Locator("#time-banner")).ToContainTextAsync("Showing the past");
        var then = (await DemoData.GetJsonAsync(Server.Http, $"/api/entities/tesla/impact?at={Uri.EscapeDataString(at)}")).GetProperty("score").GetDouble();
        await Expect(page.GetByTestId("compare-legend").Locator("li[data-entity=tesla]").GetByTestId("legend-score")).ToHaveTextAsync($"{DemoData.Score(then)} then");
        session.AssertNoErrors("404 (Not Found)"); // the unknown entities, asked for on purpose
    }

    [Fact]
    public async Task A_group_page_compares_its_members()
    {
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/#/group/musk-companies");
        var impact = await DemoData.GetJsonAsync(Server.Http, "/api/groups/musk-companies/impact");
        var byScore = impact.GetProperty("members").EnumerateArray()
            .OrderByDescending(m => m.GetProperty("score").GetDouble()).Select(m => m.GetProperty("entity").GetString()!).ToList();
        await page.GetByTestId("compare-members").ClickAsync();
        Assert.EndsWith($"#/compare/{string.Join(',', byScore)}", page.Url, StringComparison.Ordinal);
        await Expect(page.GetByTestId("compare-chart").Locator("figure")).ToHaveAttributeAsync("data-series", string.Join(',', byScore));
        await Expect(page.GetByTestId("compare-legend").Locator("li")).ToHaveCountAsync(3);
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Dark_mode_recolours_the_page_the_charts_and_the_map()
    {
        await using var session = await fixture.Browser.OpenAsync(Server, width: 1280, height: 1400, colorScheme: ColorScheme.Dark);
        var page = session.Page;
        await page.GotoAsync("/#/entity/tesla");
        await Expect(page.GetByTestId("map").Locator("a.region[data-region=US]")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("history-chart").Locator("button.marker").First).ToBeVisibleAsync();

        // Dark panels with light text, and a map whose steps are not the light mode's.
        var luminance = "c => { const [r, g, b] = c.match(/\\d+/g).map(Number); return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255; }";
        var background = await page.EvaluateAsync<double>($"() => ({luminance})(getComputedStyle(document.body).backgroundColor || getComputedStyle(document.documentElement).backgroundColor)");
        var panel = await page.Locator(".panel").First.EvaluateAsync<double>($"p => ({luminance})(getComputedStyle(p).backgroundColor)");
        var text = await page.Locator("h1").EvaluateAsync<double>($"h => ({luminance})(getComputedStyle(h).color)");
        Assert.True(panel < 0.2, $"the panels are not dark ({panel:0.00})");
        Assert.True(text > 0.8, $"the text is not light ({text:0.00})");
        Assert.True(background < 0.2 || panel < 0.2);
        var darkUs = await page.GetByTestId("map").Locator("a.region[data-region=US] path").EvaluateAsync<string>("p => getComputedStyle(p).fill");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        var lightUs = await page.GetByTestId("map").Locator("a.region[data-region=US] path").EvaluateAsync<string>("p => getComputedStyle(p).fill");
        Assert.NotEqual(darkUs, lightUs);
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await Expect(page.GetByTestId("history-chart").Locator("canvas")).ToHaveCountAsync(1); // rebuilt for the scheme, still one
        await Screenshots.SaveAsync(page, "dark.png");
        session.AssertNoErrors();
    }

    [Fact]
    public async Task At_phone_width_the_chart_map_and_comparison_fit()
    {
        await using var session = await fixture.Browser.OpenAsync(Server, width: 390, height: 844);
        var page = session.Page;
        await page.GotoAsync("/#/entity/tesla");
        await Expect(page.GetByTestId("history-chart").Locator("button.marker").First).ToBeVisibleAsync();
        await Expect(page.GetByTestId("map").Locator("a.region[data-region=US]")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("regions").Locator("tbody tr").First).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the entity page is wider than a phone screen");
        // The screenshot: a tall phone, from the chart down through the map.
        await page.SetViewportSizeAsync(390, 1500);
        await page.GetByRole(AriaRole.Heading, new() { Name = "Score over time" }).EvaluateAsync("h => window.scrollTo(0, h.getBoundingClientRect().top + window.scrollY - 8)");
        await Screenshots.SaveAsync(page, "phone-entity.png");
        await page.SetViewportSizeAsync(390, 844);

        // A marker's details stay on the screen.
        await page.GetByTestId("history-chart").Locator("button.marker").Last.FocusAsync();
        var tip = await page.GetByTestId("history-chart").Locator(".marker-tip").BoundingBoxAsync();
        Assert.NotNull(tip);
        Assert.InRange(tip!.X, 0, 390);
        Assert.InRange(tip.X + tip.Width, 0, 390.5);

        await page.GotoAsync("/#/compare/tesla,elon-musk,x,spacex");
        await Expect(page.GetByTestId("compare-legend").Locator("li")).ToHaveCountAsync(4);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the comparison is wider than a phone screen");
        session.AssertNoErrors();
    }
}
