using Npgsql;

namespace ImpactGrains.Storage.Postgres;

/// <summary>The production profile's database: the event log, the catalog and Orleans' tables, in one PostgreSQL database.</summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    /// <summary>The ADO.NET invariant under which Orleans finds Npgsql.</summary>
    public const string OrleansInvariant = "Npgsql";

    // Any fixed number: every process that migrates takes this advisory lock first, so only one applies scripts.
    private const long MigrationLockKey = 0x1_4D_50_41_43_54;

    public PostgresDatabase(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        ConnectionString = builder.ConnectionString;
        DataSource = NpgsqlDataSource.Create(builder);
        var writer = new NpgsqlConnectionStringBuilder(builder.ConnectionString)
        {
            MaxPoolSize = WriterPoolSize,
            MinPoolSize = 0,
            ApplicationName = string.IsNullOrEmpty(builder.ApplicationName) ? "impactgrains-log-writer" : builder.ApplicationName + "-log-writer",
        };
        WriterDataSource = NpgsqlDataSource.Create(writer);
    }

    /// <summary>Connections of <see cref="WriterDataSource"/>: the log's group commit holds one at a time, its outbox clean-up another.</summary>
    public const int WriterPoolSize = 4;

    public string ConnectionString { get; }

    /// <summary>Reads and the catalog: entity activations, queries, links, alert rules.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>
    /// The event log's own small pool for its commits. A burst of grain activations (each reads the catalog and the
    /// log) can hold every connection of <see cref="DataSource"/>; the commits that acknowledge events must not wait
    /// behind them, so they never draw from that pool.
    /// </summary>
    public NpgsqlDataSource WriterDataSource { get; }

    /// <summary>
    /// Applies every migration not yet applied, each in its own transaction, under an advisory lock: safe when many
    /// silos start at once, and a no-op when all are applied. Returns the names of the scripts it applied.
    /// </summary>
    public Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default) => MigrateAsync(through: null, cancellationToken);

    /// <summary>Applies the migrations up to and including <paramref name="through"/> (tests: a database as an earlier version left it).</summary>
    internal async Task<IReadOnlyList<string>> MigrateAsync(string? through, CancellationToken cancellationToken = default)
    {
        var applied = new List<string>();
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (name varchar(200) NOT NULL PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken);
            var done = new HashSet<string>(StringComparer.Ordinal);
            await using (var read = new NpgsqlCommand("SELECT name FROM schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    done.Add(reader.GetString(0));
                }
            }

            foreach (var (name, text) in SqlScripts.In("Postgres"))
            {
                if (done.Contains(name) || (through is not null && string.CompareOrdinal(name, through) > 0))
                {
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var script = new NpgsqlCommand(text, connection, transaction))
                {
                    await script.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (name) VALUES ($1)", connection, transaction))
                {
                    record.Parameters.AddWithValue(name);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                applied.Add(name);
            }
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None);
        }

        return applied;
    }

    /// <summary>Whether the database answers; used by readiness checks.</summary>
    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
            await ExecuteAsync(connection, "SELECT 1", cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await WriterDataSource.DisposeAsync();
        await DataSource.DisposeAsync();
    }
}
