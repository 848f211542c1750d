using Microsoft.Data.Sqlite;

namespace ImpactGrains.Storage.Sqlite;

/// <inheritdoc cref="ITimelineStore"/>
/// <remarks>In snapshots.db, beside the grain snapshots, so that these writes never wait on the event log's writer.</remarks>
public sealed class SqliteTimelineStore(SqliteDatabase database) : ITimelineStore
{
    public async Task SaveAsync(string entity, string generation, IReadOnlyList<TimelineChunk> chunks, CancellationToken cancellationToken = default)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        await using var connection = await SqliteDatabase.OpenAsync(database.SnapshotConnectionString, cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR REPLACE INTO timeline_chunks (entity, generation, chunk, version, data) VALUES ($entity, $generation, $chunk, $version, $data)";
        command.Parameters.AddWithValue("$entity", entity);
        command.Parameters.AddWithValue("$generation", generation);
        var chunk = command.Parameters.Add("$chunk", SqliteType.Integer);
        var version = command.Parameters.Add("$version", SqliteType.Integer);
        var data = command.Parameters.Add("$data", SqliteType.Blob);
        foreach (var c in chunks)
        {
            (chunk.Value, version.Value, data.Value) = (c.Index, c.Version, c.Data);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<TimelineChunk>> LoadAsync(string entity, string generation, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.SnapshotConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT chunk, version, data FROM timeline_chunks WHERE entity = $entity AND generation = $generation";
        command.Parameters.AddWithValue("$entity", entity);
        command.Parameters.AddWithValue("$generation", generation);
        var chunks = new List<TimelineChunk>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            chunks.Add(new TimelineChunk(reader.GetInt32(0), reader.GetInt32(1), (byte[])reader.GetValue(2)));
        }

        return chunks;
    }

    public async Task<byte[]?> LoadChunkAsync(string entity, string generation, int chunk, int version, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.SnapshotConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM timeline_chunks WHERE entity = $entity AND generation = $generation AND chunk = $chunk AND version = $version";
        command.Parameters.AddWithValue("$entity", entity);
        command.Parameters.AddWithValue("$generation", generation);
        command.Parameters.AddWithValue("$chunk", chunk);
        command.Parameters.AddWithValue("$version", version);
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async Task PruneAsync(string entity, string generation, IReadOnlyList<TimelineChunk> current, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.SnapshotConnectionString, cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var others = connection.CreateCommand();
        others.Transaction = transaction;
        others.CommandText = "DELETE FROM timeline_chunks WHERE entity = $entity AND generation <> $generation";
        others.Parameters.AddWithValue("$entity", entity);
        others.Parameters.AddWithValue("$generation", generation);
        await others.ExecuteNonQueryAsync(cancellationToken);

        await using var older = connection.CreateCommand();
        older.Transaction = transaction;
        older.CommandText = "DELETE FROM timeline_chunks WHERE entity = $entity AND generation = $generation AND chunk = $chunk AND version < $version";
        older.Parameters.AddWithValue("$entity", entity);
        older.Parameters.AddWithValue("$generation", generation);
        var chunk = older.Parameters.Add("$chunk", SqliteType.Integer);
        var version = older.Parameters.Add("$version", SqliteType.Integer);
        foreach (var c in current)
        {
            (chunk.Value, version.Value) = (c.Index, c.Version);
            await older.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
