using ImpactGrains.Scoring.Model;
using Microsoft.Data.Sqlite;

namespace ImpactGrains.Storage.Sqlite;

/// <summary>The model registry of the embedded profile, in the same file as the event log.</summary>
public sealed class SqliteModelRegistry(SqliteDatabase database) : IModelRegistry
{
    private const string Columns = "name, parameters, created_at";

    public async Task<ModelRegistrationResult> RegisterAsync(ScoringModel model, CancellationToken cancellationToken = default)
    {
        var parameters = ModelRegistration.Prepare(model);
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO model_versions (name, identity, parameters, created_at) VALUES ($name, $identity, $parameters, $now)
            ON CONFLICT (name) DO NOTHING
            """;
        insert.Parameters.AddWithValue("$name", model.Version);
        insert.Parameters.AddWithValue("$identity", model.Identity);
        insert.Parameters.AddWithValue("$parameters", parameters);
        insert.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.UtcTicks);
        var inserted = await insert.ExecuteNonQueryAsync(cancellationToken) == 1;

        // A row never changes once inserted, so reading it after the insert needs no transaction.
        var stored = (await QueryAsync(connection, "WHERE name = $name", model.Version, cancellationToken)).Single();
        return ModelRegistration.Outcome(inserted, model, stored);
    }

    public async Task<ModelVersionRecord?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        return (await QueryAsync(connection, "WHERE name = $name", name, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<ModelVersionRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        return await QueryAsync(connection, "", null, cancellationToken);
    }

    private static async Task<IReadOnlyList<ModelVersionRecord>> QueryAsync(SqliteConnection connection, string where, string? name, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM model_versions {where} ORDER BY created_at, name";
        if (name is not null)
        {
            command.Parameters.AddWithValue("$name", name);
        }

        return await StoredRows.ReadAllAsync(command, ModelRegistration.ReadVersion<TicksColumn>, cancellationToken);
    }
}
