namespace ImpactGrains.Postgres.Tests;

/// <summary>One throwaway PostgreSQL server for the whole collection; each test takes a fresh database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>The arguments that put a server process on this database, as a silo of one cluster.</summary>
    public static string[] ServerArgs(string connectionString, params string[] more) =>
        ["--Impact:Storage=Postgres", $"--ConnectionStrings:Postgres={connectionString}", .. more];
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
