using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>The viewer on a server with API keys and no public reads: it asks for a key and then works, live updates included.</summary>
public sealed class PrivateViewerTests() : DemoServerAndBrowser(TestApiKeys.ServerArgs)
{
    [Fact]
    public async Task The_viewer_asks_for_a_read_key_and_then_shows_live_scores()
    {
        await using var session = await Browser.OpenAsync(Server);
        var page = session.Page;
        await page.GotoAsync("/");
        var panel = page.Locator("#key-panel");
        await Expect(panel).ToBeVisibleAsync();
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("offline");

        // A key without the read role is refused, and the panel says why.
        await page.GetByRole(AriaRole.Textbox, new() { Name = "API key" }).FillAsync(TestApiKeys.Ingester);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await Expect(panel).ToBeVisibleAsync();
        await Expect(panel).ToContainTextAsync("does not have the read role");

        // The read key shows the leaderboard and opens the stream (fetch, since EventSource cannot send the header).
        await page.GetByRole(AriaRole.Textbox, new() { Name = "API key" }).FillAsync(TestApiKeys.Reader);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key" }).ClickAsync();
        await Expect(page.Locator("table.leaderboard tbody tr")).ToHaveCountAsync(DemoData.Entities.Length);
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("connected");
        await Expect(panel).ToBeHiddenAsync();

        // A live score change arrives over that stream.
        var row = page.Locator("table.leaderboard tbody tr[data-entity='spacex']");
        var before = await row.InnerTextAsync();
        var posted = await Server.Http.PostAsync("/api/events", new StringContent(
            $$"""{"id":"private-viewer-1","entity":"spacex","type":"outage","occurredAt":"{{DateTimeOffset.UtcNow:O}}","data":{"reports":900000,"durationMinutes":600} }""",
            System.Text.Encoding.UTF8, "application/json"));
        Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        await Expect(row).Not.ToHaveTextAsync(before, new() { Timeout = 15_000 });

        // The key lives in this tab only: forgetting it brings the panel back.
        await page.GetByRole(AriaRole.Button, new() { Name = "Forget the API key" }).ClickAsync();
        await Expect(panel).ToBeVisibleAsync();
        session.AssertNoErrors("status of 401 (Unauthorized)", "status of 403 (Forbidden)");
    }
}
