using Microsoft.Data.Sqlite;

namespace ImpactGrains.Storage.Sqlite;

/// <inheritdoc cref="IStandingStore"/>
public sealed class SqliteStandingStore(SqliteDatabase database) : IStandingStore
{
    private const int Page = 10_000;

    public async Task SaveAsync(IReadOnlyList<StoredStanding> standings, CancellationToken cancellationToken = default)
    {
        if (standings.Count == 0)
        {
            return;
        }

        await using var connection = await SqliteDatabase.OpenAsync(database.SnapshotConnectionString, cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR REPLACE INTO standings (partition, entity, data) VALUES ($partition, $entity, $data)";
        var partition = command.Parameters.Add("$partition", SqliteType.Integer);
        var entity = command.Parameters.Add("$entity", SqliteType.Text);
        var data = command.Parameters.Add("$data", SqliteType.Blob);
        foreach (var s in standings)
        {
            (partition.Value, entity.Value, data.Value) = (s.Partition, s.Entity, s.Data);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async IAsyncEnumerable<StoredStanding> LoadPartitionAsync(int partition, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = "";
        while (true)
        {
            var page = new List<StoredStanding>(Page);
            await using (var connection = await SqliteDatabase.OpenAsync(database.SnapshotConnectionString, cancellationToken))
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT entity, data FROM standings WHERE partition = $partition AND entity > $after ORDER BY entity LIMIT $page";
                command.Parameters.AddWithValue("$partition", partition);
                command.Parameters.AddWithValue("$after", after);
                command.Parameters.AddWithValue("$page", Page);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    page.Add(new StoredStanding(reader.GetString(0), partition, (byte[])reader.GetValue(1)));
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
