namespace ImpactGrains.Postgres.Tests;

/// <summary>One throwaway PostgreSQL server for the whole collection; each test takes a fresh database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>
    /// The arguments that put a server process on this database, as a silo of one cluster. The PostgreSQL profile
    /// refuses to start without API keys, so the test keys are configured (the server process sends the admin key).
    /// </summary>
    public static string[] ServerArgs(string connectionString, params string[] more) =>
        ["--Impact:Storage=Postgres", $"--ConnectionStrings:Postgres={connectionString}", .. TestApiKeys.ServerArgs, .. more];
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
