namespace ImpactGrains.Server.Tests;

/// <summary>One server, started empty, shared by the contract tests; each test uses its own entity ids.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public HttpClient Http => Server.Http;

    public async Task InitializeAsync() =>
        Server = await ServerProcess.StartAsync(demo: false, extraArgs:
        [
            "--Impact:Ingestion:MaxBodyBytes=65536", "--Impact:Ingestion:MaxEventsPerRequest=100",
            // The alert tests' webhooks listen on loopback, which the SSRF policy refuses unless allowed.
            "--Impact:Alerts:AllowedWebhookHosts:0=127.0.0.1/32",
        ]);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Server.DeleteData();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}

/// <summary>
/// A server of their own for the OpenAPI drift tests: they create hundreds of alert rules, groups and entities at the
/// documented bounds, and on the shared server those rules' webhook deliveries crowded out the alert tests' own.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DriftCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "openapi-drift";
}
