using Microsoft.Playwright;

namespace ImpactGrains.Browser.Tests;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright's own driver; nothing is downloaded. The flags keep Chromium off
/// the network (this machine has none beyond loopback) and out of the sandbox (the tests run as root).
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] Flags =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic",
    ];

    private readonly IPlaywright playwright;

    private HeadlessChromium(IPlaywright playwright, IBrowser chromium)
    {
        this.playwright = playwright;
        Chromium = chromium;
    }

    public IBrowser Chromium { get; }

    /// <summary>How long an Expect(…) assertion waits by default: generous, for a loaded two-core machine.</summary>
    public const int ExpectTimeoutMs = 15_000;

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        Assertions.SetDefaultExpectTimeout(ExpectTimeoutMs);
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: install it with apt-get install -y chromium (test.sh does)");
        }

        var playwright = await Playwright.CreateAsync();
        var chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = Flags,
        });
        return new HeadlessChromium(playwright, chromium);
    }

    /// <summary>A fresh context (no cookies, no cache) on the server, in UTC, in English, in light mode unless told otherwise.</summary>
    public async Task<Session> OpenAsync(
        ServerProcess server, int width = 1280, int height = 900, HttpCredentials? credentials = null, ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = $"http://127.0.0.1:{server.HttpPort}",
            ViewportSize = new ViewportSize { Width = width, Height = height },
            TimezoneId = "UTC",
            Locale = "en-US",
            HttpCredentials = credentials,
            ReducedMotion = ReducedMotion.Reduce,
            ColorScheme = colorScheme,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        var session = new Session(context, page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                session.Errors.Add($"console: {message.Text}");
            }
        };
        page.PageError += (_, error) => session.Errors.Add($"page: {error}");
        return session;
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        playwright.Dispose();
    }
}

/// <summary>One browser context with one page, and the errors the page reported.</summary>
public sealed class Session(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IBrowserContext Context { get; } = context;

    public IPage Page { get; } = page;

    public List<string> Errors { get; } = [];

    /// <summary>No errors, except those containing one of <paramref name="allowed"/> (such as the 401s a page is meant to meet).</summary>
    public void AssertNoErrors(params string[] allowed)
    {
        var errors = Errors.Where(e => !allowed.Any(a => e.Contains(a, StringComparison.Ordinal))).ToList();
        Assert.True(errors.Count == 0, "the page reported errors:\n" + string.Join('\n', errors));
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}

/// <summary>
/// Screenshots of the main views. They always go to the test output; with IMPACT_UPDATE_SCREENSHOTS=1 they also replace
/// the ones under docs/screenshots that the README shows.
/// </summary>
public static class Screenshots
{
    public static async Task SaveAsync(IPage page, string name, bool fullPage = false)
    {
        var options = new PageScreenshotOptions { FullPage = fullPage, Animations = ScreenshotAnimations.Disabled };
        var bytes = await page.ScreenshotAsync(options);
        var local = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(local);
        await File.WriteAllBytesAsync(Path.Combine(local, name), bytes);
        if (Environment.GetEnvironmentVariable("IMPACT_UPDATE_SCREENSHOTS") == "1")
        {
            var docs = Path.Combine(RepositoryRoot(), "docs", "screenshots");
            Directory.CreateDirectory(docs);
            await File.WriteAllBytesAsync(Path.Combine(docs, name), bytes);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ImpactGrains.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("the repository root (ImpactGrains.sln) was not found");
    }
}
