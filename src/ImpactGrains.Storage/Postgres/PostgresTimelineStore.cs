using Npgsql;

namespace ImpactGrains.Storage.Postgres;

/// <inheritdoc cref="ITimelineStore"/>
public sealed class PostgresTimelineStore(PostgresDatabase database) : ITimelineStore
{
    public async Task SaveAsync(string entity, string generation, IReadOnlyList<TimelineChunk> chunks, CancellationToken cancellationToken = default)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        await using var command = database.DataSource.CreateCommand("""
            INSERT INTO timeline_chunks (entity, generation, chunk, version, data)
            SELECT $1, $2, c, v, d FROM unnest($3::integer[], $4::integer[], $5::bytea[]) AS u(c, v, d)
            ON CONFLICT (entity, generation, chunk, version) DO UPDATE SET data = excluded.data
            """);
        command.Parameters.AddWithValue(entity);
        command.Parameters.AddWithValue(generation);
        command.Parameters.AddWithValue(chunks.Select(c => c.Index).ToArray());
        command.Parameters.AddWithValue(chunks.Select(c => c.Version).ToArray());
        command.Parameters.AddWithValue(chunks.Select(c => c.Data).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<TimelineChunk>> LoadAsync(string entity, string generation, CancellationToken cancellationToken = default)
    {
        await using var command = database.DataSource.CreateCommand("SELECT chunk, version, data FROM timeline_chunks WHERE entity = $1 AND generation = $2");
        command.Parameters.AddWithValue(entity);
        command.Parameters.AddWithValue(generation);
        var chunks = new List<TimelineChunk>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            chunks.Add(new TimelineChunk(reader.GetInt32(0), reader.GetInt32(1), reader.GetFieldValue<byte[]>(2)));
        }

        return chunks;
    }

    public async Task<byte[]?> LoadChunkAsync(string entity, string generation, int chunk, int version, CancellationToken cancellationToken = default)
    {
        await using var command = database.DataSource.CreateCommand(
            "SELECT data FROM timeline_chunks WHERE entity = $1 AND generation = $2 AND chunk = $3 AND version = $4");
        command.Parameters.AddWithValue(entity);
        command.Parameters.AddWithValue(generation);
        command.Parameters.AddWithValue(chunk);
        command.Parameters.AddWithValue(version);
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async Task PruneAsync(string entity, string generation, IReadOnlyList<TimelineChunk> current, CancellationToken cancellationToken = default)
    {
        await using var batch = database.DataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM timeline_chunks WHERE entity = $1 AND generation <> $2")
        {
            Parameters = { new() { Value = entity }, new() { Value = generation } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            DELETE FROM timeline_chunks t USING unnest($3::integer[], $4::integer[]) AS u(c, v)
            WHERE t.entity = $1 AND t.generation = $2 AND t.chunk = u.c AND t.version < u.v
            """)
        {
            Parameters = { new() { Value = entity }, new() { Value = generation }, new() { Value = current.Select(c => c.Index).ToArray() }, new() { Value = current.Select(c => c.Version).ToArray() } },
        });
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
