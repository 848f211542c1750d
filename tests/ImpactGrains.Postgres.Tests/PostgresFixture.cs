namespace ImpactGrains.Postgres.Tests;

/// <summary>One throwaway PostgreSQL server for the whole collection; each test takes a fresh database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>
    /// The arguments that put a server process on this database, as a silo of one cluster. The PostgreSQL profile
    /// refuses to start its Orleans Dashboard without a login, so an operator account is configured (password
    /// "postgres-tests-operator").
    /// </summary>
    public static string[] ServerArgs(string connectionString, params string[] more) =>
        ["--Impact:Storage=Postgres", $"--ConnectionStrings:Postgres={connectionString}",
         "--Impact:Dashboard:Username=operator", "--Impact:Dashboard:PasswordHash=sha256:27a9b9b9b137483cbc4c5a39109ffb6c802d8bbedb818eb7d8147deef164a17a", .. more];
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
