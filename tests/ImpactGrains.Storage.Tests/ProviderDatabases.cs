using ImpactGrains.Storage.Postgres;
using ImpactGrains.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace ImpactGrains.Storage.Tests;

/// <summary>
/// A store on a fresh, migrated database of one provider. <see cref="OpenAnother"/> opens a second store on the same
/// database, with nothing in memory shared with the first: what another process (or a restarted one) would see.
/// </summary>
public sealed class OpenStore<T>(T store, Func<T> openAnother, Func<ValueTask> dispose) : IAsyncDisposable
{
    public T Store { get; } = store;

    public T OpenAnother() => openAnother();

    public ValueTask DisposeAsync() => dispose();
}

/// <summary>How the contract tests open each provider's stores.</summary>
internal static class ProviderDatabases
{
    public static Task<OpenStore<T>> SqliteAsync<T>(Func<SqliteDatabase, T> open)
    {
        var directory = Directory.CreateTempSubdirectory("impactgrains-contract-").FullName;
        var database = new SqliteDatabase(directory);
        database.Migrate();
        return Task.FromResult(new OpenStore<T>(open(database), () => open(database), () =>
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
            return ValueTask.CompletedTask;
        }));
    }

    public static async Task<OpenStore<T>> PostgresAsync<T>(PostgresServer server, Func<PostgresDatabase, T> open)
    {
        var database = new PostgresDatabase(await server.CreateDatabaseAsync());
        await database.MigrateAsync();
        // Each other store gets a data source of its own, as a second silo would.
        var others = new List<PostgresDatabase>();
        return new OpenStore<T>(open(database), () =>
        {
            var other = new PostgresDatabase(database.ConnectionString);
            others.Add(other);
            return open(other);
        }, async () =>
        {
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }

            await database.DisposeAsync();
        });
    }
}
