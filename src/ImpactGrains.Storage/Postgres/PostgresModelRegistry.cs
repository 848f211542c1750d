using ImpactGrains.Scoring.Model;
using Npgsql;
using NpgsqlTypes;

namespace ImpactGrains.Storage.Postgres;

/// <summary>The model registry on PostgreSQL, shared by every silo.</summary>
public sealed class PostgresModelRegistry(PostgresDatabase database) : IModelRegistry
{
    private const string Columns = "name, parameters::text, created_at";

    private NpgsqlDataSource Source => database.DataSource;

    public async Task<ModelRegistrationResult> RegisterAsync(ScoringModel model, CancellationToken cancellationToken = default)
    {
        var parameters = ModelRegistration.Prepare(model);

        // Silos that start together may register the same version at once: the insert of one of them wins, and the
        // others wait for its commit and insert nothing.
        await using var insert = Source.CreateCommand("""
            INSERT INTO model_versions (name, identity, parameters) VALUES ($1, $2, $3)
            ON CONFLICT (name) DO NOTHING
            """);
        insert.Parameters.AddWithValue(model.Version);
        insert.Parameters.AddWithValue(model.Identity);
        insert.Parameters.Add(new NpgsqlParameter { Value = parameters, NpgsqlDbType = NpgsqlDbType.Jsonb });
        var inserted = await insert.ExecuteNonQueryAsync(cancellationToken) == 1;

        // A row never changes once inserted, so reading it after the insert needs no transaction.
        var stored = (await QueryAsync("WHERE name = $1", model.Version, cancellationToken)).Single();
        return ModelRegistration.Outcome(inserted, model, stored);
    }

    public async Task<ModelVersionRecord?> FindAsync(string name, CancellationToken cancellationToken = default) =>
        (await QueryAsync("WHERE name = $1", name, cancellationToken)).SingleOrDefault();

    public Task<IReadOnlyList<ModelVersionRecord>> ListAsync(CancellationToken cancellationToken = default) =>
        QueryAsync("", null, cancellationToken);

    private async Task<IReadOnlyList<ModelVersionRecord>> QueryAsync(string where, string? name, CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand($"SELECT {Columns} FROM model_versions {where} ORDER BY created_at, name");
        if (name is not null)
        {
            command.Parameters.AddWithValue(name);
        }

        return await StoredRows.ReadAllAsync(command, ModelRegistration.ReadVersion<TimestampColumn>, cancellationToken);
    }
}
