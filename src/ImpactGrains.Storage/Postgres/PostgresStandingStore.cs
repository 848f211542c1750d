namespace ImpactGrains.Storage.Postgres;

/// <inheritdoc cref="IStandingStore"/>
public sealed class PostgresStandingStore(PostgresDatabase database) : IStandingStore
{
    private const int Page = 10_000;

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

    public async IAsyncEnumerable<StoredStanding> LoadPartitionAsync(int partition, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = "";
        while (true)
        {
            var page = new List<StoredStanding>(Page);
            await using (var command = database.DataSource.CreateCommand("SELECT entity, data FROM standings WHERE partition = $1 AND entity > $2 ORDER BY entity LIMIT $3"))
            {
                command.Parameters.AddWithValue(partition);
                command.Parameters.AddWithValue(after);
                command.Parameters.AddWithValue(Page);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    page.Add(new StoredStanding(reader.GetString(0), partition, reader.GetFieldValue<byte[]>(1)));
                }
            }

            foreach (var standing in page)
            {
                yield return standing;
            }

            if (page.Count < Page)
            {
                yield break;
            }

            after = page[^1].Entity;
        }
    }
}
