using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>
/// The security headers (docs/security.md) leave the third-party pages working: the Scalar reference and the Orleans
/// Dashboard run their own scripts and styles, and the browser reports no Content-Security-Policy violation on them
/// or on the viewer.
/// </summary>
[Collection(DemoCollection.Name)]
public sealed class SecurityHeadersPagesTests(DemoFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private static void AssertNoPolicyViolations(Session session)
    {
        var violations = session.Errors.Where(e => e.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) ||
                                                   e.Contains("Refused to", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(violations.Count == 0, "the page broke a policy:\n" + string.Join('\n', violations));
    }

    [Fact]
    public async Task The_scalar_reference_renders_the_api_under_its_policy()
    {
        await using var session = await fixture.Browser.OpenAsync(Server, width: 1400, height: 900);
        var page = session.Page;
        var response = await page.GotoAsync("/api/docs/");
        Assert.Equal(200, response!.Status);
        Assert.Contains("frame-ancestors 'none'", response.Headers["content-security-policy"]);
        await Expect(page.Locator("body")).ToContainTextAsync("ImpactGrains API", new() { Timeout = 20_000 });
        await Expect(page.Locator("body")).ToContainTextAsync("/api/entities", new() { Timeout = 20_000 });
        AssertNoPolicyViolations(session);
    }

    [Fact]
    public async Task The_orleans_dashboard_and_the_viewer_break_no_policy()
    {
        await using var session = await fixture.Browser.OpenAsync(Server, width: 1400, height: 900);
        var page = session.Page;
        var dashboard = await page.GotoAsync("/dashboard/");
        Assert.Equal("DENY", dashboard!.Headers["x-frame-options"]);
        await Expect(page.Locator("body")).ToContainTextAsync("Silo", new() { Timeout = 20_000 });

        var viewer = await page.GotoAsync("/");
        Assert.Contains("script-src 'self'", viewer!.Headers["content-security-policy"]);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Who is being hit right now");
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("connected");
        AssertNoPolicyViolations(session);
    }
}
