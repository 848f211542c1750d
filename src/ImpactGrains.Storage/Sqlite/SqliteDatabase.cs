using Microsoft.Data.Sqlite;

namespace ImpactGrains.Storage.Sqlite;

/// <summary>
/// The embedded profile's two database files in the data directory: impact.db (event log and catalog) and
/// snapshots.db (Orleans grain storage). Kept apart so that snapshot writes never wait on the log's writer.
/// </summary>
public sealed class SqliteDatabase
{
    /// <summary>The ADO.NET invariant under which Orleans finds Microsoft.Data.Sqlite.</summary>
    public const string OrleansInvariant = "System.Data.SQLite";

    public SqliteDatabase(string dataDirectory)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
        LogConnectionString = ConnectionString(Path.Combine(DataDirectory, "impact.db"));
        SnapshotConnectionString = ConnectionString(Path.Combine(DataDirectory, "snapshots.db"));
    }

    public string DataDirectory { get; }

    /// <summary>The log writer's page cache in KiB (SQLite's <c>cache_size</c>); 256 MiB unless configured.</summary>
    public int LogCacheKiB { get; init; } = 256 * 1024;

    public string LogConnectionString { get; }

    public string SnapshotConnectionString { get; }

    private static string ConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>Creates the files and applies every migration not yet applied. Safe to run at every start.</summary>
    public void Migrate() => Migrate(through: null);

    /// <summary>Applies the migrations up to and including <paramref name="through"/> (tests: a store as an earlier version left it).</summary>
    internal void Migrate(string? through)
    {
        Directory.CreateDirectory(DataDirectory);
        using (var connection = Open(LogConnectionString))
        {
            Execute(connection, "PRAGMA journal_mode = WAL;");
            // Migration 0007 keys the rows already logged by the hash the log computes for new ones.
            connection.CreateFunction("event_id_hash", (string id) => EventIdHash.Of(id), isDeterministic: true);
            // Migration 0008 maps the rows already logged to the time map's zones as the log's writer does.
            connection.CreateFunction("event_time_zone", (long sequence) => EventTimeZones.ZoneOf(sequence), isDeterministic: true);
            Execute(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL) WITHOUT ROWID;");
            foreach (var (name, text) in SqlScripts.In("Sqlite").Where(s => char.IsDigit(s.Name[0]) && (through is null || string.CompareOrdinal(s.Name, through) <= 0)))
            {
                using var transaction = connection.BeginTransaction();
                using var check = connection.CreateCommand();
                check.CommandText = "SELECT count(*) FROM schema_migrations WHERE name = $name";
                check.Parameters.AddWithValue("$name", name);
                if (Convert.ToInt64(check.ExecuteScalar()) > 0)
                {
                    continue;
                }

                Execute(connection, text);
                using var record = connection.CreateCommand();
                record.CommandText = "INSERT INTO schema_migrations (name, applied_at) VALUES ($name, datetime('now'))";
                record.Parameters.AddWithValue("$name", name);
                record.ExecuteNonQuery();
                transaction.Commit();
            }
        }

        using (var connection = Open(SnapshotConnectionString))
        {
            Execute(connection, "PRAGMA journal_mode = WAL;");
            using var transaction = connection.BeginTransaction();
            Execute(connection, SqlScripts.In("Sqlite").Single(s => s.Name == "grain-storage.sql").Text);
            Execute(connection, SqlScripts.In("Sqlite").Single(s => s.Name == "timeline-chunks.sql").Text);
            transaction.Commit();
        }
    }

    /// <summary>Whether the log file opens and answers a query; used by readiness checks.</summary>
    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(LogConnectionString, cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM schema_migrations";
            await command.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    internal static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        return connection;
    }

    internal static async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
