namespace ImpactGrains.Storage.Postgres;

/// <inheritdoc cref="IStandingStore"/>
public sealed class PostgresStandingStore(PostgresDatabase database) : IStandingStore
{
    public async Task SaveAsync(IReadOnlyList<StoredStanding> standings, CancellationToken cancellationToken = default)
    {
        if (standings.Count == 0)
        {
            return;
        }

        await using var command = database.DataSource.CreateCommand("""
            INSERT INTO standings (partition, entity, data)
            SELECT * FROM unnest($1::integer[], $2::varchar[], $3::bytea[])
            ON CONFLICT (partition, entity) DO UPDATE SET data = excluded.data
            """);
        command.Parameters.AddWithValue(standings.Select(s => s.Partition).ToArray());
        command.Parameters.AddWithValue(standings.Select(s => s.Entity).ToArray());
        command.Parameters.AddWithValue(standings.Select(s => s.Data).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public IAsyncEnumerable<StoredStanding> LoadPartitionAsync(int partition, CancellationToken cancellationToken = default) =>
        StoredRows.ReadPagesAsync("", StandingRows.Page, async (after, cancellation) =>
        {
            await using var command = database.DataSource.CreateCommand("SELECT entity, data FROM standings WHERE partition = $1 AND entity > $2 ORDER BY entity LIMIT $3");
            command.Parameters.AddWithValue(partition);
            command.Parameters.AddWithValue(after);
            command.Parameters.AddWithValue(StandingRows.Page);
            return await StandingRows.ReadAsync(command, partition, cancellation);
        }, s => s.Entity, cancellationToken);
}
