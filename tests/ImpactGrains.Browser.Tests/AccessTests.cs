using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>
/// A server with API keys and public reads: the viewer works for anyone, the Orleans Dashboard asks for an admin key
/// (HTTP Basic, the key as the password), and writes need their roles.
/// </summary>
public sealed class AccessTests() : DemoServerAndBrowser([.. TestApiKeys.ServerArgs, "--Impact:Auth:PublicRead=true"])
{
    [Fact]
    public async Task The_dashboard_asks_for_an_admin_key_and_renders_with_one()
    {
        using var anonymous = Server.ClientWithKey(null);
        using (var challenged = await anonymous.GetAsync("/dashboard/"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, challenged.StatusCode);
            Assert.Equal("Basic", challenged.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains("realm=", challenged.Headers.WwwAuthenticate.Single().Parameter, StringComparison.Ordinal);
            Assert.Equal("application/problem+json", challenged.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await BasicStatusAsync("/dashboard/", "operator", "not-a-key"));
        Assert.Equal(HttpStatusCode.Forbidden, await BasicStatusAsync("/dashboard/", "operator", TestApiKeys.Reader));
        Assert.Equal(HttpStatusCode.OK, await BasicStatusAsync("/dashboard/", "operator", TestApiKeys.Admin));
        Assert.Equal(HttpStatusCode.OK, await BasicStatusAsync("/dashboard/", "", TestApiKeys.Admin)); // any user name

        // Everything under the prefix is guarded, not just the page; with public reads the viewer and GETs are open.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/dashboard/index.min.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/leaderboard")).StatusCode);

        // In the browser: without credentials the login is asked for (401 with a Basic challenge); headless Chromium
        // has no login dialog, so it may give up the navigation with ERR_INVALID_AUTH_CREDENTIALS.
        await using (var stranger = await Browser.OpenAsync(Server))
        {
            var response = new TaskCompletionSource<IResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
            stranger.Page.Response += (_, r) =>
            {
                if (r.Url.EndsWith("/dashboard/", StringComparison.Ordinal))
                {
                    response.TrySetResult(r);
                }
            };
            try
            {
                await stranger.Page.GotoAsync("/dashboard/");
            }
            catch (PlaywrightException ex) when (ex.Message.Contains("ERR_INVALID_AUTH_CREDENTIALS", StringComparison.Ordinal))
            {
            }

            var answer = await response.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(401, answer.Status);
            Assert.StartsWith("Basic realm=", await answer.HeaderValueAsync("www-authenticate"), StringComparison.Ordinal);
        }

        // With the admin key as the password, the dashboard renders and its own calls are let through.
        await using var session = await Browser.OpenAsync(Server, credentials: new HttpCredentials { Username = "operator", Password = TestApiKeys.Admin });
        var page = session.Page;
        // The dashboard's bundle is large; on a loaded CI machine its "load" event can come late, and the page is
        // usable (and checked below) once the document itself has arrived.
        var ok = await page.GotoAsync("/dashboard/", new() { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 45_000 });
        Assert.Equal(200, ok!.Status);
        await Expect(page).ToHaveTitleAsync("Orleans Dashboard", new() { Timeout = 30_000 });
        await Expect(page.Locator("#menu a").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("body")).ToContainTextAsync("Silo", new() { Timeout = 20_000 });
    }

    [Fact]
    public async Task The_public_viewer_shows_scores_without_a_key_and_writes_still_need_one()
    {
        await using var session = await Browser.OpenAsync(Server);
        await session.Page.GotoAsync("/");
        await Expect(session.Page.Locator("table.leaderboard tbody tr")).ToHaveCountAsync(DemoData.Entities.Length);
        await Expect(session.Page.Locator("#live-status")).ToHaveTextAsync("connected");
        await Expect(session.Page.Locator("#key-panel")).ToBeHiddenAsync();

        using var anonymous = Server.ClientWithKey(null);
        using var write = await anonymous.PutAsync("/api/entities/someone", new StringContent("""{"name":"Someone","kind":"person"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
        using var reader = Server.ClientWithKey(TestApiKeys.Reader);
        using var forbidden = await reader.PutAsync("/api/entities/someone", new StringContent("""{"name":"Someone","kind":"person"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/api/entities/someone")).StatusCode);
        session.AssertNoErrors();
    }

    [Fact]
    public async Task Every_profile_but_the_embedded_loopback_default_refuses_to_start_without_keys()
    {
        // Refused before the database is touched, so no PostgreSQL is needed (port 1 would not answer anyway).
        foreach (var args in new[]
                 {
                     new[] { "--Impact:Storage=Postgres", "--ConnectionStrings:Postgres=Host=127.0.0.1;Port=1;Timeout=1", "--urls=http://127.0.0.1:0" },
                     ["--urls=http://0.0.0.0:0", "--Impact:DataDirectory=" + Path.Combine(Path.GetTempPath(), "impactgrains-tests", Guid.NewGuid().ToString("N"))],
                 })
        {
            var (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), args);
            Assert.Equal(2, exitCode);
            var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Contains("no API keys are configured", line, StringComparison.Ordinal);
            Assert.Contains("keys create", line, StringComparison.Ordinal);
        }
    }

    private async Task<HttpStatusCode> BasicStatusAsync(string path, string user, string password)
    {
        using var client = Server.ClientWithKey(null);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
