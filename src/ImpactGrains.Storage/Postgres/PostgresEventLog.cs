using System.Threading.Channels;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;
using Npgsql;
using NpgsqlTypes;

namespace ImpactGrains.Storage.Postgres;

/// <summary>
/// The event log on PostgreSQL. Within a process, appends queue to one writer that commits whatever has gathered in
/// one transaction (group commit) with array inserts; across processes, each entity's row lock orders its sequence.
/// Nothing is acknowledged before its commit.
/// </summary>
public sealed class PostgresEventLog : IEventLog, IAsyncDisposable
{
    public const int MaxEventsPerCommit = 20_000;

    /// <summary>How often a commit is retried after a deadlock, a serialisation failure or a duplicate-id race.</summary>
    private const int MaxAttempts = 4;

    private readonly PostgresDatabase database;
    private readonly Channel<PendingAppend> queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(4096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Task writer;

    public PostgresEventLog(PostgresDatabase database)
    {
        this.database = database;
        writer = Task.Run(WriterLoopAsync);
    }

    /// <remarks><paramref name="Bodies"/> are the events' stored JSON, serialized by the caller rather than by the one writer (and once, not per retry).</remarks>
    private sealed record PendingAppend(IReadOnlyList<ImpactEvent> Events, string[] Bodies, TaskCompletionSource<AppendResult> Completion);

    private NpgsqlDataSource Source => database.DataSource;

    public async Task<AppendResult> AppendAsync(IReadOnlyList<ImpactEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0)
        {
            return new AppendResult([], 0);
        }

        var pending = new PendingAppend(events, events.Select(EventJson.Serialize).ToArray(), new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        await queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Completion.Task.WaitAsync(cancellationToken);
    }

    private async Task WriterLoopAsync()
    {
        var reader = queue.Reader;
        var group = new List<PendingAppend>();
        while (await reader.WaitToReadAsync())
        {
            group.Clear();
            var count = 0;
            while (count < MaxEventsPerCommit && reader.TryRead(out var pending))
            {
                group.Add(pending);
                count += pending.Events.Count;
            }

            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var results = await CommitAsync(group);
                    for (var i = 0; i < group.Count; i++)
                    {
                        group[i].Completion.TrySetResult(results[i]);
                    }

                    break;
                }
                catch (Exception ex) when (attempt < MaxAttempts && IsRetryable(ex))
                {
                    await Task.Delay(10 * attempt);
                }
                catch (Exception ex)
                {
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

    private static bool IsRetryable(Exception ex) => ex is DuplicateRaceException ||
        ex is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.UniqueViolation };

    /// <summary>Another process committed one of these ids between our check and our insert; the retry sees it.</summary>
    private sealed class DuplicateRaceException() : Exception("an event id was committed concurrently");

    private async Task<List<AppendResult>> CommitAsync(List<PendingAppend> group)
    {
        await using var connection = await database.WriterDataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        // Lock the heads of every entity in the group, in id order so that concurrent appenders never deadlock.
        var entities = group.SelectMany(p => p.Events).Select(e => e.Entity).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var heads = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var lockHeads = new NpgsqlCommand("SELECT id, head FROM entities WHERE id = ANY($1) ORDER BY id FOR UPDATE", connection, transaction))
        {
            lockHeads.Parameters.AddWithValue(entities);
            await using var reader = await lockHeads.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                heads[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        // Ids already in the log are duplicates; so is a second occurrence within the group.
        var ids = group.SelectMany(p => p.Events).Select(e => e.Id).Distinct(StringComparer.Ordinal).ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await using (var existing = new NpgsqlCommand("SELECT event_id FROM events WHERE event_id = ANY($1)", connection, transaction))
        {
            existing.Parameters.AddWithValue(ids);
            await using var reader = await existing.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                seen.Add(reader.GetString(0));
            }
        }

        var rows = new List<(ImpactEvent Event, string Body, long Sequence)>();
        var results = new List<AppendResult>(group.Count);
        var throughs = new List<Dictionary<string, long>>(group.Count);
        foreach (var pending in group)
        {
            var outcomes = new AppendOutcome[pending.Events.Count];
            var through = new Dictionary<string, long>(StringComparer.Ordinal);
            for (var i = 0; i < outcomes.Length; i++)
            {
                var e = pending.Events[i];
                if (!heads.TryGetValue(e.Entity, out var head) || !seen.Add(e.Id))
                {
                    // An entity is never removed, so a missing head only means a duplicate here.
                    outcomes[i] = AppendOutcome.Duplicated;
                    continue;
                }

                heads[e.Entity] = through[e.Entity] = head + 1;
                outcomes[i] = new AppendOutcome(false, head + 1);
                rows.Add((e, pending.Bodies[i], head + 1));
            }

            results.Add(new AppendResult(outcomes, 0));
            throughs.Add(through);
        }

        if (rows.Count > 0)
        {
            await using (var insert = new NpgsqlCommand("""
                INSERT INTO events (event_id, entity, entity_seq, type, occurred_at, body)
                SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::bigint[], $4::varchar[], $5::bigint[], $6::text[])
                ON CONFLICT (event_id) DO NOTHING
                """, connection, transaction))
            {
                insert.Parameters.AddWithValue(rows.Select(r => r.Event.Id).ToArray());
                insert.Parameters.AddWithValue(rows.Select(r => r.Event.Entity).ToArray());
                insert.Parameters.AddWithValue(rows.Select(r => r.Sequence).ToArray());
                insert.Parameters.AddWithValue(rows.Select(r => r.Event.Type.WireName()).ToArray());
                insert.Parameters.AddWithValue(rows.Select(r => r.Event.OccurredAt.UtcTicks).ToArray());
                insert.Parameters.AddWithValue(rows.Select(r => r.Body).ToArray());
                if (await insert.ExecuteNonQueryAsync() != rows.Count)
                {
                    throw new DuplicateRaceException(); // rolled back: sequences must never have gaps
                }
            }

            var touched = entities.Where(id => heads.ContainsKey(id)).ToArray();
            await using (var advance = new NpgsqlCommand("""
                UPDATE entities SET head = u.head FROM unnest($1::varchar[], $2::bigint[]) AS u(id, head) WHERE entities.id = u.id
                """, connection, transaction))
            {
                advance.Parameters.AddWithValue(touched);
                advance.Parameters.AddWithValue(touched.Select(id => heads[id]).ToArray());
                await advance.ExecuteNonQueryAsync();
            }

            // One outbox row per request that had accepted events, all in one round trip.
            await using var batch = new NpgsqlBatch(connection, transaction);
            var batchIndex = new List<int>();
            for (var i = 0; i < group.Count; i++)
            {
                if (throughs[i].Count == 0)
                {
                    continue;
                }

                var command = new NpgsqlBatchCommand("INSERT INTO pending_deliveries (entities, through) VALUES ($1, $2) RETURNING id");
                command.Parameters.Add(new NpgsqlParameter { Value = throughs[i].Keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                command.Parameters.AddWithValue(throughs[i].Values.ToArray());
                batch.BatchCommands.Add(command);
                batchIndex.Add(i);
            }

            await using (var reader = await batch.ExecuteReaderAsync())
            {
                foreach (var i in batchIndex)
                {
                    await reader.ReadAsync();
                    results[i] = results[i] with { DeliveryId = reader.GetInt64(0) };
                    await reader.NextResultAsync();
                }
            }
        }

        await transaction.CommitAsync();
        return results;
    }

    public async Task CompleteDeliveryAsync(long deliveryId, CancellationToken cancellationToken = default)
    {
        if (deliveryId == 0)
        {
            return;
        }

        await using var command = database.WriterDataSource.CreateCommand("DELETE FROM pending_deliveries WHERE id = $1");
        command.Parameters.AddWithValue(deliveryId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

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
        await using var command = Source.CreateCommand("SELECT id, head FROM entities");
        var heads = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            heads[reader.GetString(0)] = reader.GetInt64(1);
        }

        return heads;
    }

    public async Task<IReadOnlyList<LoggedEvent>> ReadEntityAsync(string entity, long afterSequence, long throughSequence = long.MaxValue, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            SELECT entity_seq, body FROM events
            WHERE entity = $1 AND entity_seq > $2 AND entity_seq <= $3
            ORDER BY entity_seq
            """);
        command.Parameters.AddWithValue(entity);
        command.Parameters.AddWithValue(afterSequence);
        command.Parameters.AddWithValue(throughSequence);
        return await ReadEventsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<LoggedEvent>> ListEntityEventsAsync(string entity, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            SELECT entity_seq, body FROM events
            WHERE entity = $1 AND occurred_at < $2
            ORDER BY occurred_at DESC, entity_seq DESC
            LIMIT $3
            """);
        command.Parameters.AddWithValue(entity);
        command.Parameters.AddWithValue(before?.UtcTicks ?? long.MaxValue);
        command.Parameters.AddWithValue(limit);
        return await ReadEventsAsync(command, cancellationToken);
    }

    private static async Task<IReadOnlyList<LoggedEvent>> ReadEventsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var events = new List<LoggedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new LoggedEvent(reader.GetInt64(0), EventJson.Deserialize(reader.GetString(1))));
        }

        return events;
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
