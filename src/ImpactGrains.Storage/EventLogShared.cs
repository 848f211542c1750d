using System.Collections.Concurrent;
using System.Data.Common;

namespace ImpactGrains.Storage;

/// <summary>How the event log's rows read back, the same on both providers.</summary>
internal static class LoggedEventRows
{
    /// <summary>The columns <see cref="ReadAsync"/> reads, in its order.</summary>
    public const string Columns = "entity_seq, event_id, occurred_at, body";

    /// <summary>Rows per page of a time-ordered read.</summary>
    public const int HistoryPage = 4096;

    public static async Task<IReadOnlyList<LoggedEvent>> ReadAsync(DbCommand command, string entity, CancellationToken cancellationToken)
    {
        var events = new List<LoggedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var body = reader.GetFieldValue<byte[]>(3);
            events.Add(new LoggedEvent(reader.GetInt64(0), EventCodec.Decode(reader.GetString(1), entity, reader.GetInt64(2), body)));
        }

        return events;
    }

    /// <summary>Rows of (entity, last sequence).</summary>
    public static async Task<IReadOnlyDictionary<string, long>> ReadHeadsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var heads = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            heads[reader.GetString(0)] = reader.GetInt64(1);
        }

        return heads;
    }

    /// <summary>
    /// An entity's events in time order, in keyset pages of <see cref="HistoryPage"/>: <paramref name="readPage"/> gets
    /// the (ticks, sequence) of the last event read, and must return the next events strictly after it.
    /// </summary>
    public static IAsyncEnumerable<LoggedEvent> ReadByTimeAsync(
        long afterTicks,
        Func<(long Ticks, long Sequence), CancellationToken, Task<IReadOnlyList<LoggedEvent>>> readPage,
        CancellationToken cancellationToken) =>
        StoredRows.ReadPagesAsync((afterTicks, long.MaxValue), HistoryPage, readPage, e => (e.Event.OccurredAt.UtcTicks, e.EntitySequence), cancellationToken);
}

/// <summary>
/// Outbox rows whose delivery every entity grain has confirmed, waiting for the log's writer to remove them in its next
/// transaction rather than on a connection of their own: on SQLite a second writer waits for the file's one write lock,
/// and on PostgreSQL the removal rides in the writer's probe round trip.
/// </summary>
/// <param name="wakeWriter">Makes an idle writer run a transaction, with nothing to append if need be.</param>
internal sealed class ConfirmedDeliveries(Action wakeWriter)
{
    private readonly ConcurrentQueue<(long Id, TaskCompletionSource Removed)> waiting = new();

    /// <summary>
    /// Queues the removal of an outbox row (0: none) and wakes the writer; the task completes once the writer has
    /// committed it. Should the process die first, recovery finds the grains up to date and removes the row then.
    /// </summary>
    public Task RemoveAsync(long deliveryId, CancellationToken cancellationToken)
    {
        if (deliveryId == 0)
        {
            return Task.CompletedTask;
        }

        var removed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting.Enqueue((deliveryId, removed));
        wakeWriter();
        return removed.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Moves every waiting removal into <paramref name="batch"/> (emptied first), for the writer's next transaction.</summary>
    public void TakeInto(List<(long Id, TaskCompletionSource Removed)> batch)
    {
        batch.Clear();
        while (waiting.TryDequeue(out var removal))
        {
            batch.Add(removal);
        }
    }

    /// <summary>The transaction that carried <paramref name="batch"/> committed.</summary>
    public static void Committed(List<(long Id, TaskCompletionSource Removed)> batch)
    {
        foreach (var (_, removed) in batch)
        {
            removed.TrySetResult();
        }
    }

    /// <summary>The transaction that carried <paramref name="batch"/> failed: its removals wait for the next one.</summary>
    public void PutBack(List<(long Id, TaskCompletionSource Removed)> batch)
    {
        foreach (var removal in batch)
        {
            waiting.Enqueue(removal);
        }
    }
}
