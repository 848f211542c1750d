using System.Diagnostics;
using ImpactGrains.Scoring.Events;
using Npgsql;
using NpgsqlTypes;

namespace ImpactGrains.Storage.Postgres;

/// <summary>
/// The event log on PostgreSQL. Within a process, appends queue to one writer that commits whatever has gathered in one
/// transaction (group commit): a probe of the ids and of the heads it does not know, then one binary COPY of the rows.
/// No row is locked: the writer numbers each entity's events from its own memory, and the primary key
/// (entity, entity_seq) and the unique id hash make a concurrent writer in another process (an entity's ownership moving
/// between silos, the same id posted twice at once) a retry rather than a gap or a double. Nothing is acknowledged
/// before its commit.
/// </summary>
public sealed class PostgresEventLog : IEventLog, IAsyncDisposable
{
    /// <summary>
    /// Which of a commit's id hashes are logged already. A probe per hash through the id index: `id_hash = ANY($1)`
    /// with the thousands of hashes a gathered commit holds was planned as a parallel sequential scan of the whole log
    /// while it held around a million events (a quarter of the database's CPU in the bench's profile), and the LIMIT in
    /// the lateral subquery keeps the planner from turning this into a hash join over the log.
    /// </summary>
    internal const string LoggedHashesProbe = """
        SELECT h.id_hash FROM unnest($1::uuid[]) AS h(id_hash)
        CROSS JOIN LATERAL (SELECT 1 FROM event_log l WHERE l.id_hash = h.id_hash LIMIT 1) AS logged
        """;

    public const int MaxEventsPerCommit = 20_000;

    /// <summary>How often a commit is retried after losing a race (a key taken by another writer).</summary>
    private const int MaxConflictAttempts = 30;

    private readonly PostgresDatabase database;
    private readonly CommitFeed? feed;
    private readonly AppendQueue<PendingAppend> queue = new(events => new PendingAppend(events));

    private readonly ConfirmedDeliveries confirmedDeliveries;
    private readonly Task writer;

    // The writer's view of each entity's last sequence; only the writer task touches it. Wrong only when another
    // process appended to the entity meanwhile, which the primary key reports and a retry repairs.
    private readonly Dictionary<string, long> heads = new(StringComparer.Ordinal);

    public PostgresEventLog(PostgresDatabase database, CommitFeed? feed = null)
    {
        this.database = database;
        this.feed = feed;
        confirmedDeliveries = new ConfirmedDeliveries(queue.Wake);
        writer = Task.Run(WriterLoopAsync);
    }

    /// <summary>An append with its bodies and id hashes computed by the appending request, once, not per retry.</summary>
    private sealed class PendingAppend(IReadOnlyList<ImpactEvent> events) : QueuedAppend(events)
    {
        public byte[][] Bodies { get; } = events.Select(EventCodec.Encode).ToArray();

        public Guid[] Hashes { get; } = events.Select(e => EventIdHash.AsUuid(e.Id)).ToArray();
    }

    private NpgsqlDataSource Source => database.DataSource;

    public Task<AppendResult> AppendAsync(IReadOnlyList<ImpactEvent> events, CancellationToken cancellationToken = default) =>
        queue.AppendAsync(events, cancellationToken);

    private async Task WriterLoopAsync()
    {
        var group = new List<PendingAppend>();
        var completed = new List<(long Id, TaskCompletionSource Removed)>();
        while (await queue.WaitToReadAsync())
        {
            var count = await queue.TakeGroupAsync(group, MaxEventsPerCommit);

            confirmedDeliveries.TakeInto(completed);

            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var (results, commit) = await CommitAsync(group, completed, count);
                    for (var i = 0; i < group.Count; i++)
                    {
                        group[i].Completion.TrySetResult(results[i]);
                    }

                    ConfirmedDeliveries.Committed(completed);

                    if (commit is not null)
                    {
                        if (feed is null) commit.MarkDelivered();
                        else feed.Publish(commit);
                    }

                    break;
                }
                catch (Exception ex) when (attempt < MaxConflictAttempts && IsConflict(ex))
                {
                    // Another writer took a key first: forget what this one believed about the group's entities and
                    // read it again. Jitter keeps two writers from colliding in step.
                    foreach (var pending in group)
                    {
                        foreach (var e in pending.Events)
                        {
                            heads.Remove(e.Entity);
                        }
                    }

                    await Task.Delay(Random.Shared.Next(1, 10 * Math.Min(attempt, 10)));
                }
                catch (Exception ex)
                {
                    heads.Clear();
                    confirmedDeliveries.PutBack(completed);

                    var failure = new EventLogUnavailableException("the event log could not commit the batch", ex);
                    foreach (var pending in group)
                    {
                        pending.Completion.TrySetException(failure);
                    }

                    break;
                }
            }
        }
    }

    private static bool IsConflict(Exception ex) =>
        ex is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure };

    private async Task<(AppendResult[] Results, CommittedGroup? Commit)> CommitAsync(List<PendingAppend> group, List<(long Id, TaskCompletionSource Removed)> completed, int count)
    {
        await using var connection = await database.WriterDataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        // One round trip: which ids are logged already, the heads this writer does not know, and the outbox rows whose
        // delivery was confirmed since the last commit.
        var hashes = new Guid[count];
        var unknown = new HashSet<string>(StringComparer.Ordinal);
        var n = 0;
        foreach (var pending in group)
        {
            pending.Hashes.CopyTo(hashes, n);
            n += pending.Hashes.Length;
            foreach (var e in pending.Events)
            {
                if (!heads.ContainsKey(e.Entity))
                {
                    unknown.Add(e.Entity);
                }
            }
        }

        var logged = new HashSet<Guid>();
        await using (var probe = new NpgsqlBatch(connection, transaction))
        {
            probe.BatchCommands.Add(new NpgsqlBatchCommand(LoggedHashesProbe) { Parameters = { new() { Value = hashes } } });
            if (unknown.Count > 0)
            {
                probe.BatchCommands.Add(new NpgsqlBatchCommand("""
                    SELECT e.id, (SELECT max(entity_seq) FROM event_log WHERE entity = e.id) FROM unnest($1::text[]) AS e(id)
                    """) { Parameters = { new() { Value = unknown.ToArray() } } });
            }

            if (completed.Count > 0)
            {
                probe.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM pending_deliveries WHERE id = ANY($1)") { Parameters = { new() { Value = completed.Select(c => c.Id).ToArray() } } });
            }

            await using var reader = await probe.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                logged.Add(reader.GetGuid(0));
            }

            if (unknown.Count > 0)
            {
                await reader.NextResultAsync();
                while (await reader.ReadAsync())
                {
                    heads[reader.GetString(0)] = reader.IsDBNull(1) ? 0 : reader.GetInt64(1);
                }
            }
        }

        // Number the new events; ids already logged, or met earlier in the group, are duplicates.
        var results = new AppendResult[group.Count];
        var committed = new List<CommittedEvent>(count);
        var bodies = new List<byte[]>(count);
        var rowHashes = new List<Guid>(count);
        var through = new Dictionary<string, long>(StringComparer.Ordinal);
        var advanced = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var g = 0; g < group.Count; g++)
        {
            var pending = group[g];
            var outcomes = new AppendOutcome[pending.Events.Count];
            for (var i = 0; i < outcomes.Length; i++)
            {
                if (!logged.Add(pending.Hashes[i]))
                {
                    outcomes[i] = AppendOutcome.Duplicated;
                    continue;
                }

                var e = pending.Events[i];
                var sequence = (advanced.TryGetValue(e.Entity, out var head) ? head : heads[e.Entity]) + 1;
                advanced[e.Entity] = through[e.Entity] = sequence;
                outcomes[i] = new AppendOutcome(false, sequence);
                committed.Add(new CommittedEvent(e, sequence));
                bodies.Add(pending.Bodies[i]);
                rowHashes.Add(pending.Hashes[i]);
            }

            results[g] = new AppendResult(outcomes, 0);
        }

        long deliveryId = 0;
        if (committed.Count > 0)
        {
            await using (var copy = await connection.BeginBinaryImportAsync(
                "COPY event_log (entity, entity_seq, occurred_at, id_hash, event_id, body) FROM STDIN (FORMAT BINARY)"))
            {
                // Synchronous writes into the importer's buffer: an await per value cost more than the value.
                for (var i = 0; i < committed.Count; i++)
                {
                    var (e, sequence) = committed[i];
                    copy.StartRow();
                    copy.Write(e.Entity, NpgsqlDbType.Varchar);
                    copy.Write(sequence, NpgsqlDbType.Bigint);
                    copy.Write(e.OccurredAt.UtcTicks, NpgsqlDbType.Bigint);
                    copy.Write(rowHashes[i], NpgsqlDbType.Uuid);
                    copy.Write(e.Id, NpgsqlDbType.Varchar);
                    copy.Write(bodies[i], NpgsqlDbType.Bytea);
                }

                await copy.CompleteAsync();
            }

            await using var outbox = new NpgsqlCommand("INSERT INTO pending_deliveries (entities, through) VALUES ($1, $2) RETURNING id", connection, transaction);
            outbox.Parameters.Add(new NpgsqlParameter { Value = through.Keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            outbox.Parameters.AddWithValue(through.Values.ToArray());
            deliveryId = (long)(await outbox.ExecuteScalarAsync())!;
        }

        await transaction.CommitAsync();
        foreach (var (entity, head) in advanced)
        {
            heads[entity] = head;
        }

        if (committed.Count == 0)
        {
            return (results, null);
        }

        var commit = new CommittedGroup(committed, deliveryId, Stopwatch.GetTimestamp());
        for (var g = 0; g < results.Length; g++)
        {
            results[g] = results[g] with { DeliveryId = deliveryId, Commit = commit };
        }

        return (results, commit);
    }

    public Task CompleteDeliveryAsync(long deliveryId, CancellationToken cancellationToken = default) =>
        confirmedDeliveries.RemoveAsync(deliveryId, cancellationToken);

    public async Task<IReadOnlyList<PendingDelivery>> ClaimStaleDeliveriesAsync(TimeSpan olderThan, TimeSpan claimFor, int max, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            UPDATE pending_deliveries SET claimed_until = now() + $2
            WHERE id IN (
                SELECT id FROM pending_deliveries
                WHERE created_at < now() - $1 AND (claimed_until IS NULL OR claimed_until < now())
                ORDER BY id LIMIT $3
                FOR UPDATE SKIP LOCKED)
            RETURNING id, entities, through
            """);
        command.Parameters.AddWithValue(olderThan);
        command.Parameters.AddWithValue(claimFor);
        command.Parameters.AddWithValue(max);
        var claimed = new List<PendingDelivery>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var names = reader.GetFieldValue<string[]>(1);
            var through = reader.GetFieldValue<long[]>(2);
            claimed.Add(new PendingDelivery(reader.GetInt64(0), names.Zip(through).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal)));
        }

        return claimed;
    }

    public async Task<IReadOnlyDictionary<string, long>> HeadsAsync(CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("SELECT entity, max(entity_seq) FROM event_log GROUP BY entity");
        return await LoggedEventRows.ReadHeadsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<LoggedEvent>> ReadEntityAsync(string entity, long afterSequence, long throughSequence = long.MaxValue, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand($"""
            SELECT {LoggedEventRows.Columns} FROM event_log
            WHERE entity = $1 AND entity_seq > $2 AND entity_seq <= $3
            ORDER BY entity_seq
            """);
        command.Parameters.AddWithValue(entity);
        command.Parameters.AddWithValue(afterSequence);
        command.Parameters.AddWithValue(throughSequence);
        return await LoggedEventRows.ReadAsync(command, entity, cancellationToken);
    }

    // Keyset pages on the (entity, occurred_at) index.
    public IAsyncEnumerable<LoggedEvent> ReadEntityByTimeAsync(string entity, long afterTicks, long throughTicks, long throughSequence, CancellationToken cancellationToken = default) =>
        LoggedEventRows.ReadByTimeAsync(afterTicks, async (last, cancellation) =>
        {
            await using var command = Source.CreateCommand($"""
                SELECT {LoggedEventRows.Columns} FROM event_log
                WHERE entity = $1 AND occurred_at <= $2 AND entity_seq <= $3 AND (occurred_at, entity_seq) > ($4, $5)
                ORDER BY occurred_at, entity_seq
                LIMIT $6
                """);
            command.Parameters.AddWithValue(entity);
            command.Parameters.AddWithValue(throughTicks);
            command.Parameters.AddWithValue(throughSequence);
            command.Parameters.AddWithValue(last.Ticks);
            command.Parameters.AddWithValue(last.Sequence);
            command.Parameters.AddWithValue(LoggedEventRows.HistoryPage);
            return await LoggedEventRows.ReadAsync(command, entity, cancellation);
        }, cancellationToken);

    public async Task<IReadOnlyList<LoggedEvent>> ListEntityEventsAsync(string entity, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand($"""
            SELECT {LoggedEventRows.Columns} FROM event_log
            WHERE entity = $1 AND occurred_at < $2
            ORDER BY occurred_at DESC, entity_seq DESC
            LIMIT $3
            """);
        command.Parameters.AddWithValue(entity);
        command.Parameters.AddWithValue(before?.UtcTicks ?? long.MaxValue);
        command.Parameters.AddWithValue(limit);
        return await LoggedEventRows.ReadAsync(command, entity, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        queue.Complete();
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
