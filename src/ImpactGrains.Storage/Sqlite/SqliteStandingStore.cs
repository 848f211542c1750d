using Microsoft.Data.Sqlite;

namespace ImpactGrains.Storage.Sqlite;

/// <inheritdoc cref="IStandingStore"/>
public sealed class SqliteStandingStore(SqliteDatabase database) : IStandingStore
{
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

    public IAsyncEnumerable<StoredStanding> LoadPartitionAsync(int partition, CancellationToken cancellationToken = default) =>
        StoredRows.ReadPagesAsync("", StandingRows.Page, async (after, cancellation) =>
        {
            await using var connection = await SqliteDatabase.OpenAsync(database.SnapshotConnectionString, cancellation);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT entity, data FROM standings WHERE partition = $partition AND entity > $after ORDER BY entity LIMIT $page";
            command.Parameters.AddWithValue("$partition", partition);
            command.Parameters.AddWithValue("$after", after);
            command.Parameters.AddWithValue("$page", StandingRows.Page);
            return await StandingRows.ReadAsync(command, partition, cancellation);
        }, s => s.Entity, cancellationToken);
}
