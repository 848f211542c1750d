using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>The impact viewer at / on the demo data, as a person sees it in Chromium.</summary>
[Collection(DemoCollection.Name)]
public sealed class ViewerTests(DemoFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task The_leaderboard_loads_with_the_demo_data()
    {
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Who is being hit right now");
        var rows = page.Locator("table.leaderboard tbody tr");
        await Expect(rows).ToHaveCountAsync(DemoData.Entities.Length);

        // The rows are the API's ranking, name by name, with the API's scores.
        var board = await DemoData.GetJsonAsync(Server.Http, "/api/leaderboard");
        var expected = board.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("entity").GetString()).ToArray();
        var shown = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.entity)");
        Assert.Equal(expected, shown);
        var teslaScore = double.Parse(await page.Locator("tr[data-entity=tesla] [data-testid=score]").InnerTextAsync(), CultureInfo.InvariantCulture);
        Assert.InRange(teslaScore, 50, 100);
        await Expect(page.Locator("tr[data-entity=tesla] th a")).ToHaveTextAsync("Tesla");
        await Expect(page.Locator("tr[data-entity=tesla] .trend")).Not.ToHaveTextAsync("…");
        await Expect(page.GetByTestId("most-affected")).ToContainTextAsync(board.GetProperty("entries")[0].GetProperty("name").GetString()!);
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("connected");

        await Screenshots.SaveAsync(page, "leaderboard.png");
        session.AssertNoErrors();
    }

    [Fact]
    public async Task The_leaderboard_filters_by_kind_category_and_region()
    {
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/");
        var rows = page.Locator("table.leaderboard tbody tr");
        await Expect(rows).ToHaveCountAsync(DemoData.Entities.Length);

        await page.GetByLabel("Show", new() { Exact = true }).SelectOptionAsync("person");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-entity", "elon-musk");
        Assert.Contains("kind=person", page.Url, StringComparison.Ordinal);

        await page.GetByLabel("Show", new() { Exact = true }).SelectOptionAsync("");
        await page.GetByLabel("Rank by").SelectOptionAsync("operational");
        var operational = await DemoData.GetJsonAsync(Server.Http, "/api/leaderboard?category=operational");
        await Expect(rows).ToHaveCountAsync(operational.GetProperty("entries").GetArrayLength());
        await Expect(rows.First).ToHaveAttributeAsync("data-entity", operational.GetProperty("entries")[0].GetProperty("entity").GetString()!);
        await Expect(page.Locator("table.leaderboard thead")).ToContainTextAsync("Operational score (0–100)");

        await page.GetByLabel("Region").SelectOptionAsync("DE");
        var germany = await DemoData.GetJsonAsync(Server.Http, "/api/leaderboard?region=DE");
        await Expect(rows).ToHaveCountAsync(germany.GetProperty("entries").GetArrayLength());
        await Expect(page.GetByLabel("Rank by")).ToHaveValueAsync(""); // category and region exclude each other
        session.AssertNoErrors();
    }

    [Fact]
    public async Task The_entity_page_shows_its_chart_explanation_and_events_with_real_values()
    {
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/");
        await page.Locator("tr[data-entity=elon-musk] th a").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Elon Musk");
        Assert.EndsWith("#/entity/elon-musk", page.Url, StringComparison.Ordinal);

        var impact = await DemoData.GetJsonAsync(Server.Http, "/api/entities/elon-musk/impact");
        await Expect(page.GetByTestId("score").Locator(".stat-number")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+\.\d$"));
        var shownScore = double.Parse(await page.GetByTestId("score").Locator(".stat-number").InnerTextAsync(), CultureInfo.InvariantCulture);
        Assert.InRange(shownScore, impact.GetProperty("score").GetDouble() - 0.5, impact.GetProperty("score").GetDouble() + 0.5);
        await Expect(page.GetByTestId("peak")).ToContainTextAsync("reached");

        // The chart: uPlot drew a canvas with the API's points, and the same numbers are in the table beside it.
        var chart = page.GetByTestId("history-chart");
        await Expect(chart.Locator("canvas")).ToHaveCountAsync(1);
        var inked = await chart.Locator("canvas").EvaluateAsync<int>(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }");
        Assert.True(inked > 1000, $"the chart canvas is nearly empty ({inked} painted pixels)");
        var pointRows = chart.GetByTestId("points-table").Locator("tbody tr");
        Assert.InRange(await pointRows.CountAsync(), 160, 170); // 7 days hourly: 169 points
        var lastShown = double.Parse((await pointRows.Last.Locator("td.num").TextContentAsync())!, CultureInfo.InvariantCulture); // in the closed <details>: text, not rendered
        Assert.InRange(lastShown, impact.GetProperty("score").GetDouble() - 1, impact.GetProperty("score").GetDouble() + 1);
        await Expect(chart.Locator("figcaption")).ToContainTextAsync("peaked at");

        // The explanation: the API's contributions, largest first, inherited ones marked with their source.
        var explain = await DemoData.GetJsonAsync(Server.Http, "/api/entities/elon-musk/explain?limit=20");
        var contributions = explain.GetProperty("contributions").EnumerateArray().ToList();
        var rows = page.GetByTestId("explain").Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(contributions.Count);
        Assert.Equal(contributions[0].GetProperty("eventId").GetString(), await rows.First.GetAttributeAsync("data-event"));
        var firstPoints = double.Parse(await rows.First.Locator(".contribution").InnerTextAsync(), CultureInfo.InvariantCulture);
        Assert.InRange(firstPoints, contributions[0].GetProperty("contribution").GetDouble() - 0.5, contributions[0].GetProperty("contribution").GetDouble() + 0.5);
        var inherited = contributions.First(c => c.GetProperty("entity").GetString() != "elon-musk");
        var inheritedRow = page.GetByTestId("explain").Locator($"tr[data-event='{inherited.GetProperty("eventId").GetString()}']");
        await Expect(inheritedRow).ToContainTextAsync("Inherited from");
        await Expect(inheritedRow.Locator(".inherited-badge a")).ToHaveAttributeAsync("href", $"#/entity/{inherited.GetProperty("entity").GetString()}");

        // Breakdown, events and related entities.
        await Expect(page.GetByTestId("categories").Locator("tbody tr")).ToHaveCountAsync(4);
        await Expect(page.GetByTestId("regions").Locator("tbody tr")).Not.ToHaveCountAsync(0);
        var events = await DemoData.GetJsonAsync(Server.Http, "/api/entities/elon-musk/events?limit=20");
        await Expect(page.GetByTestId("events").Locator("li")).ToHaveCountAsync(events.GetProperty("events").GetArrayLength());
        await Expect(page.GetByTestId("related")).ToContainTextAsync("Tesla");

        await Screenshots.SaveAsync(page, "entity.png", fullPage: true);

        // A related link leads to that entity's page.
        await page.GetByTestId("related").GetByRole(AriaRole.Link, new() { Name = "Tesla" }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Tesla");

        // Another time range asks for other points.
        // Through its label, as a person picks it; the radio button itself is visually hidden.
        await page.Locator("label[for=range-24h]").ClickAsync();
        await Expect(page.GetByLabel("24 hours")).ToBeCheckedAsync();
        await Expect(page.GetByTestId("history-chart").GetByTestId("points-table").Locator("tbody tr")).ToHaveCountAsync(97); // 24 h in 15 min steps
        session.AssertNoErrors();
    }

    [Fact]
    public async Task The_as_of_control_shows_a_past_moment()
    {
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/");
        await Expect(page.Locator("table.leaderboard tbody tr")).ToHaveCountAsync(DemoData.Entities.Length);

        // Three days ago, to the minute (the browser runs in UTC, so its local time is UTC).
        var past = DateTime.UtcNow.AddDays(-3);
        past = new DateTime(past.Year, past.Month, past.Day, past.Hour, past.Minute, 0, DateTimeKind.Utc);
        var at = past.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        await page.GetByLabel("As of").FillAsync(past.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Show", Exact = true }).ClickAsync();

        await Expect(page.Locator("#time-banner")).ToContainTextAsync("Showing the past");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Who was being hit");
        Assert.Contains($"at={Uri.EscapeDataString(at)}", page.Url, StringComparison.Ordinal);

        var then = await DemoData.GetJsonAsync(Server.Http, $"/api/leaderboard?limit=25&at={Uri.EscapeDataString(at)}");
        var now = await DemoData.GetJsonAsync(Server.Http, "/api/leaderboard?limit=25");
        var expected = Scores(then);
        Assert.NotEqual(expected, Scores(now)); // the demo's scores three days ago were different
        var rows = page.Locator("table.leaderboard tbody tr");
        await Expect(rows).ToHaveCountAsync(expected.Count);
        var shown = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.entity + '=' + r.querySelector('[data-testid=score]').textContent)");
        Assert.Equal(expected, shown);

        // The entity page keeps the instant: its score is the score then.
        var first = then.GetProperty("entries")[0];
        await page.Locator($"tr[data-entity={first.GetProperty("entity").GetString()}] th a").ClickAsync();
        await Expect(page.GetByTestId("score").Locator(".stat-number")).ToHaveTextAsync(DemoData.Score(first.GetProperty("score").GetDouble()));
        await Expect(page.Locator("#time-banner")).ToContainTextAsync("Showing the past");

        // Back to live.
        await page.GetByRole(AriaRole.Button, new() { Name = "Live", Exact = true }).ClickAsync();
        await Expect(page.Locator("#time-banner")).ToBeEmptyAsync();
        Assert.DoesNotContain("at=", page.Url, StringComparison.Ordinal);
        session.AssertNoErrors();

        static List<string> Scores(JsonElement board) =>
            board.GetProperty("entries").EnumerateArray().Select(e => $"{e.GetProperty("entity").GetString()}={DemoData.Score(e.GetProperty("score").GetDouble())}").ToList();
    }

    [Fact]
    public async Task Groups_alerts_and_incidents_have_their_views()
    {
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/#/groups");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Groups");
        await Expect(page.GetByTestId("groups")).ToContainTextAsync("Musk companies");
        await page.GetByRole(AriaRole.Link, new() { Name = "Musk companies" }).ClickAsync();
        await Expect(page.GetByTestId("group-explain").Locator("tbody tr")).Not.ToHaveCountAsync(0);
        await Expect(page.Locator(".chart-box canvas")).ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Views" }).GetByRole(AriaRole.Link, new() { Name = "Alerts" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Alerts");
        await Expect(page.GetByTestId("alerts")).ToContainTextAsync("No alert has fired");

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Views" }).GetByRole(AriaRole.Link, new() { Name = "Incidents" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Detected incidents");
        await Expect(page.GetByTestId("incidents")).ToContainTextAsync("No incident detected");
        session.AssertNoErrors();
    }

    [Fact]
    public async Task At_phone_width_nothing_overflows_sideways()
    {
        await using var session = await fixture.Browser.OpenAsync(Server, width: 390, height: 844);
        var page = session.Page;
        await page.GotoAsync("/");
        await Expect(page.Locator("table.leaderboard tbody tr")).ToHaveCountAsync(DemoData.Entities.Length);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the leaderboard is wider than a phone screen");
        await Screenshots.SaveAsync(page, "phone.png", fullPage: true);

        await page.GotoAsync("/#/entity/tesla");
        await Expect(page.GetByTestId("history-chart").Locator("canvas")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("explain").Locator("tbody tr").First).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the entity page is wider than a phone screen");
        session.AssertNoErrors();
    }

    [Fact]
    public async Task The_page_has_landmarks_labels_and_works_from_the_keyboard()
    {
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/");
        await Expect(page.Locator("table.leaderboard tbody tr")).ToHaveCountAsync(DemoData.Entities.Length);

        await Expect(page.GetByRole(AriaRole.Banner)).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Main)).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Contentinfo)).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Views" })).ToHaveCountAsync(1);
        var unlabelled = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('input, select, button')].filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.outerHTML)");
        Assert.Empty(unlabelled);

        // The first Tab reaches the skip link; the leaderboard's links are reachable and open with Enter.
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.Locator(":focus")).ToHaveTextAsync("Skip to content");
        await page.Locator("tr[data-entity=spacex] th a").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("SpaceX");
        await Expect(page.Locator(":focus")).ToHaveTextAsync("SpaceX"); // focus moves to the new page's heading
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Data_is_written_as_text_never_as_markup()
    {
        // An entity whose name is markup shows the markup as text and runs nothing.
        var id = "browser-markup";
        await Server.Http.PutAsync($"/api/entities/{id}", DemoData.Json("""{"name":"<img src=x onerror=\"window.__pwned=1\">Evil","kind":"organization"}"""));
        await using var session = await fixture.Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync($"/#/entity/{id}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("<img src=x onerror=\"window.__pwned=1\">Evil");
        Assert.Equal(0, await page.Locator("main img").CountAsync());
        Assert.False(await page.EvaluateAsync<bool>("() => window.__pwned === 1"));
    }

    [Fact]
    public async Task The_orleans_dashboard_renders_at_slash_dashboard()
    {
        await using var session = await fixture.Browser.OpenAsync(Server, width: 1400, height: 900);
        var page = session.Page;
        var response = await page.GotoAsync("/dashboard/");
        Assert.Equal(200, response!.Status);
        await Expect(page).ToHaveTitleAsync("Orleans Dashboard");
        await Expect(page.Locator("#menu a").First).ToBeVisibleAsync();
        await Expect(page.Locator("body")).ToContainTextAsync("Silo", new() { Timeout = 20_000 });
        // Some traffic for its charts: a few seconds of API reads, which are grain calls.
        var until = DateTime.UtcNow.AddSeconds(4);
        while (DateTime.UtcNow < until)
        {
            await Task.WhenAll(DemoData.Entities.Select(e => Server.Http.GetAsync($"/api/entities/{e}/impact")));
            await Task.Delay(20);
        }
        await Screenshots.SaveAsync(page, "orleans-dashboard.png");
    }
}
