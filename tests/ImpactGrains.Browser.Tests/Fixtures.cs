[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace ImpactGrains.Browser.Tests;

/// <summary>One Chromium and one server with the demo loaded (with <paramref name="serverArgs"/>), started side by side.</summary>
public abstract class DemoServerAndBrowser(params string[] serverArgs) : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public HeadlessChromium Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var server = ServerProcess.StartAsync(demo: true, extraArgs: serverArgs);
        Browser = await HeadlessChromium.LaunchAsync();
        Server = await server;
        await DemoData.WaitUntilLoadedAsync(Server.Http);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await Server.DisposeAsync();
        Server.DeleteData();
    }
}

/// <summary>The open demo server, shared by the tests that only look (they change no data).</summary>
public sealed class DemoFixture() : DemoServerAndBrowser;

[CollectionDefinition(Name)]
public sealed class DemoCollection : ICollectionFixture<DemoFixture>
{
    public const string Name = "demo";
}
