using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ImpactGrains.Browser.Tests;

/// <summary>
/// The Orleans Dashboard behind HTTP Basic authentication: forced on for the embedded profile here, as it is by
/// default on every other profile. The viewer and the API stay open.
/// </summary>
public sealed class DashboardAuthTests : IAsyncLifetime
{
    private const string Username = "operator";
    private const string Password = "correct horse battery staple";
    private ServerProcess server = null!;
    private HeadlessChromium browser = null!;

    public async Task InitializeAsync()
    {
        var starting = ServerProcess.StartAsync(demo: true, extraArgs:
        [
            "--Impact:Dashboard:RequireAuthentication=true", $"--Impact:Dashboard:Username={Username}",
            $"--Impact:Dashboard:PasswordHash={Pbkdf2(Password)}",
        ]);
        browser = await HeadlessChromium.LaunchAsync();
        server = await starting;
    }

    public async Task DisposeAsync()
    {
        await browser.DisposeAsync();
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Fact]
    public async Task The_dashboard_answers_401_without_credentials_and_renders_with_them()
    {
        using (var anonymous = await server.Http.GetAsync("/dashboard/"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("Basic", anonymous.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains("realm=", anonymous.Headers.WwwAuthenticate.Single().Parameter, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync("/dashboard/", Username, "wrong password"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync("/dashboard/", "someone", Password));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/dashboard/", Username, Password));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/dashboard/", Username, Password)); // the remembered check

        // Everything under the prefix is guarded, not just the page; the viewer and the API are not.
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("/dashboard/index.min.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/api/leaderboard")).StatusCode);

        // In the browser: without credentials the login is asked for (401 with a Basic challenge) ...
        // (headless Chromium has no login dialog, so it gives up the navigation with ERR_INVALID_AUTH_CREDENTIALS) ...
        await using (var anonymous = await browser.OpenAsync(server))
        {
            var challenged = new TaskCompletionSource<IResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
            anonymous.Page.Response += (_, response) =>
            {
                if (response.Url.EndsWith("/dashboard/", StringComparison.Ordinal))
                {
                    challenged.TrySetResult(response);
                }
            };
            try
            {
                var answer = await anonymous.Page.GotoAsync("/dashboard/");
                Assert.Equal(401, answer!.Status);
            }
            catch (PlaywrightException ex) when (ex.Message.Contains("ERR_INVALID_AUTH_CREDENTIALS", StringComparison.Ordinal))
            {
            }

            var response = await challenged.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(401, response.Status);
            Assert.StartsWith("Basic realm=", await response.HeaderValueAsync("www-authenticate"), StringComparison.Ordinal);
        }

        // ... and with them the dashboard renders.
        await using var session = await browser.OpenAsync(server, credentials: new HttpCredentials { Username = Username, Password = Password });
        var page = session.Page;
        var ok = await page.GotoAsync("/dashboard/");
        Assert.Equal(200, ok!.Status);
        await Expect(page).ToHaveTitleAsync("Orleans Dashboard");
        await Expect(page.Locator("#menu a").First).ToBeVisibleAsync();
        await Expect(page.Locator("body")).ToContainTextAsync("Silo", new() { Timeout = 20_000 });
    }

    [Fact]
    public async Task The_postgres_profile_refuses_to_start_a_dashboard_without_credentials()
    {
        // Refused before the database is touched, so no PostgreSQL is needed (port 1 would not answer anyway).
        var (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60),
            "--Impact:Storage=Postgres", "--ConnectionStrings:Postgres=Host=127.0.0.1;Port=1;Timeout=1", "--urls=http://127.0.0.1:0");
        Assert.Equal(2, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("Impact:Dashboard:Username and Impact:Dashboard:PasswordHash", line, StringComparison.Ordinal);
        Assert.Contains("Impact:Dashboard:Enabled=false", line, StringComparison.Ordinal);
    }

    private async Task<HttpStatusCode> StatusAsync(string path, string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await server.Http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>The pbkdf2-sha256 form of Impact:Dashboard:PasswordHash, computed here as an operator would.</summary>
    private static string Pbkdf2(string password)
    {
        const int iterations = 100_000;
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256:{iterations.ToString(CultureInfo.InvariantCulture)}:{Convert.ToBase64String(salt)}:{Convert.ToBase64String(hash)}";
    }
}
