using System.Text.Json;
using System.Threading.Channels;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace ImpactGrains.Storage.Sqlite;

/// <summary>
/// The embedded event log. Appends from all requests queue to one writer, which commits whatever has gathered in a
/// single transaction (group commit): one fsync serves many requests, and no request is answered before its commit.
/// Removing a delivered outbox row goes through the same writer, in the next group's transaction: SQLite has one write
/// lock per file, and a second writing connection made every commit wait on the busy handler's sleeps (measured by
/// bench/: about 500 ms a commit under load, docs/performance.md).
/// </summary>
public sealed class SqliteEventLog : IEventLog, IDisposable
{
    /// <summary>How many events one commit may carry; more wait for the next commit.</summary>
    public const int MaxEventsPerCommit = 50_000;

    private readonly SqliteDatabase database;
    private readonly Channel<PendingAppend> queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(4096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Thread writerThread;

    // The writer's view of each entity's last sequence; only the writer thread touches it. An entity's first append
    // reads it from the log's (entity, entity_seq) index; it is not stored apart, since updating a head row per entity
    // on every commit made each commit write most of the entities table again.
    private readonly Dictionary<string, long> heads = new(StringComparer.Ordinal);

    public SqliteEventLog(SqliteDatabase database)
    {
        this.database = database;
        writerThread = new Thread(WriterLoop) { IsBackground = true, Name = "event-log-writer" };
        writerThread.Start();
    }

    /// <summary>An append, or (with <paramref name="CompletedDelivery"/> set and no events) an outbox row to remove.</summary>
    /// <remarks>
    /// <paramref name="Bodies"/> are the events' stored JSON, serialized by the caller: the writer is one thread for
    /// every request, so it should do only what must be serial.
    /// </remarks>
    private sealed record PendingAppend(IReadOnlyList<ImpactEvent> Events, string[] Bodies, TaskCompletionSource<AppendResult> Completion, long CompletedDelivery = 0);

    public async Task<AppendResult> AppendAsync(IReadOnlyList<ImpactEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0)
        {
            return new AppendResult([], 0);
        }

        var pending = new PendingAppend(events, events.Select(EventJson.Serialize).ToArray(), new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        await queue.Writer.WriteAsync(pending, cancellationToken);

        // Once queued, the append is committed or fails as a whole; cancelling only stops waiting for the answer.
        return await pending.Completion.Task.WaitAsync(cancellationToken);
    }

    private void WriterLoop()
    {
        using var connection = SqliteDatabase.Open(database.LogConnectionString);
        using (var pragma = connection.CreateCommand())
        {
            // FULL: a commit is on disk before it is acknowledged, so even a power cut keeps acknowledged events.
            pragma.CommandText = "PRAGMA synchronous = FULL; PRAGMA journal_mode = WAL;";
            pragma.ExecuteNonQuery();
        }

        using var insert = new RowInsert(connection, """
            INSERT INTO events (event_id, entity, entity_seq, type, occurred_at, recorded_at, body)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            ON CONFLICT (event_id) DO NOTHING
            """);

        using var readHead = connection.CreateCommand();
        readHead.CommandText = "SELECT coalesce(max(entity_seq), 0) FROM events WHERE entity = $id";
        var pHeadId = readHead.Parameters.Add("$id", SqliteType.Text);

        using var outbox = connection.CreateCommand();
        outbox.CommandText = "INSERT INTO pending_deliveries (created_at, targets) VALUES ($createdAt, $targets) RETURNING id";
        var pCreatedAt = outbox.Parameters.Add("$createdAt", SqliteType.Integer);
        var pTargets = outbox.Parameters.Add("$targets", SqliteType.Text);

        using var delivered = connection.CreateCommand();
        delivered.CommandText = "DELETE FROM pending_deliveries WHERE id = $id";
        var pDeliveredId = delivered.Parameters.Add("$id", SqliteType.Integer);

        var reader = queue.Reader;
        var group = new List<PendingAppend>();
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            group.Clear();
            var eventCount = 0;
            while (eventCount < MaxEventsPerCommit && reader.TryRead(out var pending))
            {
                group.Add(pending);
                eventCount += pending.Events.Count;
            }

            var outcomes = new List<AppendResult>(group.Count);
            try
            {
                var recordedAt = DateTimeOffset.UtcNow.UtcTicks;
                using var transaction = connection.BeginTransaction();
                readHead.Transaction = outbox.Transaction = delivered.Transaction = transaction;
                foreach (var pending in group)
                {
                    if (pending.CompletedDelivery != 0)
                    {
                        pDeliveredId.Value = pending.CompletedDelivery;
                        delivered.ExecuteNonQuery();
                        outcomes.Add(new AppendResult([], 0));
                        continue;
                    }

                    var results = new AppendOutcome[pending.Events.Count];
                    var through = new Dictionary<string, long>(StringComparer.Ordinal);
                    for (var i = 0; i < results.Length; i++)
                    {
                        var e = pending.Events[i];
                        if (!heads.TryGetValue(e.Entity, out var head))
                        {
                            pHeadId.Value = e.Entity;
                            head = readHead.ExecuteScalar() is long stored ? stored : 0;
                        }

                        if (insert.Run(e.Id, e.Entity, head + 1, e.Type.WireName(), e.OccurredAt.UtcTicks, recordedAt, pending.Bodies[i]))
                        {
                            heads[e.Entity] = head + 1;
                            through[e.Entity] = head + 1;
                            results[i] = new AppendOutcome(false, head + 1);
                        }
                        else
                        {
                            heads[e.Entity] = head;
                            results[i] = AppendOutcome.Duplicated;
                        }
                    }

                    long deliveryId = 0;
                    if (through.Count > 0)
                    {
                        pCreatedAt.Value = recordedAt;
                        pTargets.Value = JsonSerializer.Serialize(through);
                        deliveryId = (long)outbox.ExecuteScalar()!;
                    }

                    outcomes.Add(new AppendResult(results, deliveryId));
                }

                transaction.Commit();
            }
            catch (Exception ex)
            {
                // Nothing of this group was committed: forget the heads it advanced and fail every request in it.
                heads.Clear();
                foreach (var pending in group)
                {
                    pending.Completion.TrySetException(new EventLogUnavailableException("the event log could not commit the batch", ex));
                }

                continue;
            }

            for (var i = 0; i < group.Count; i++)
            {
                group[i].Completion.TrySetResult(outcomes[i]);
            }
        }
    }

    public async Task CompleteDeliveryAsync(long deliveryId, CancellationToken cancellationToken = default)
    {
        if (deliveryId == 0)
        {
            return;
        }

        var pending = new PendingAppend([], [], new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously), deliveryId);
        await queue.Writer.WriteAsync(pending, cancellationToken);
        await pending.Completion.Task.WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PendingDelivery>> ClaimStaleDeliveriesAsync(TimeSpan olderThan, TimeSpan claimFor, int max, CancellationToken cancellationToken = default)
    {
        var now = DateTimeOffset.UtcNow.UtcTicks;
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE pending_deliveries SET claimed_until = $claimedUntil
            WHERE id IN (
                SELECT id FROM pending_deliveries
                WHERE created_at < $createdBefore AND (claimed_until IS NULL OR claimed_until < $now)
                ORDER BY id LIMIT $max)
            RETURNING id, targets
            """;
        command.Parameters.AddWithValue("$claimedUntil", now + claimFor.Ticks);
        command.Parameters.AddWithValue("$createdBefore", now - olderThan.Ticks);
        command.Parameters.AddWithValue("$now", now);
        command.Parameters.AddWithValue("$max", max);
        var claimed = new List<PendingDelivery>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new PendingDelivery(reader.GetInt64(0), JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(1))!));
        }

        return claimed;
    }

    public async Task<IReadOnlyDictionary<string, long>> HeadsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT entity, max(entity_seq) FROM events GROUP BY entity";
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
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT entity_seq, body FROM events
            WHERE entity = $entity AND entity_seq > $after AND entity_seq <= $through
            ORDER BY entity_seq
            """;
        command.Parameters.AddWithValue("$entity", entity);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$through", throughSequence);
        return await ReadEventsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<LoggedEvent>> ListEntityEventsAsync(string entity, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT entity_seq, body FROM events
            WHERE entity = $entity AND occurred_at < $before
            ORDER BY occurred_at DESC, entity_seq DESC
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$entity", entity);
        command.Parameters.AddWithValue("$before", before?.UtcTicks ?? long.MaxValue);
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadEventsAsync(command, cancellationToken);
    }

    private static async Task<IReadOnlyList<LoggedEvent>> ReadEventsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var events = new List<LoggedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new LoggedEvent(reader.GetInt64(0), EventJson.Deserialize(reader.GetString(1))));
        }

        return events;
    }

    public void Dispose()
    {
        queue.Writer.TryComplete();
        writerThread.Join(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// The writer's per-event insert, through SQLite's own prepared-statement calls. Microsoft.Data.Sqlite's
    /// ExecuteNonQuery costs a data reader, parameter lookups and boxing per row: most of the writer's time per event
    /// (docs/performance.md). Runs inside the connection's current transaction.
    /// </summary>
    private sealed class RowInsert : IDisposable
    {
        private readonly sqlite3 db;
        private readonly sqlite3_stmt statement;

        public RowInsert(SqliteConnection connection, string sql)
        {
            db = connection.Handle ?? throw new InvalidOperationException("the log's connection is not open");
            Check(raw.sqlite3_prepare_v2(db, sql, out statement));
        }

        /// <summary>True when the row was inserted, false when its event id was already logged.</summary>
        public bool Run(string eventId, string entity, long entitySequence, string type, long occurredAt, long recordedAt, string body)
        {
            Check(raw.sqlite3_bind_text(statement, 1, eventId));
            Check(raw.sqlite3_bind_text(statement, 2, entity));
            Check(raw.sqlite3_bind_int64(statement, 3, entitySequence));
            Check(raw.sqlite3_bind_text(statement, 4, type));
            Check(raw.sqlite3_bind_int64(statement, 5, occurredAt));
            Check(raw.sqlite3_bind_int64(statement, 6, recordedAt));
            Check(raw.sqlite3_bind_text(statement, 7, body));
            var step = raw.sqlite3_step(statement);
            raw.sqlite3_reset(statement);
            if (step != raw.SQLITE_DONE)
            {
                Check(step);
            }

            return raw.sqlite3_changes(db) == 1;
        }

        private void Check(int result)
        {
            if (result != raw.SQLITE_OK && result != raw.SQLITE_DONE)
            {
                throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), result);
            }
        }

        public void Dispose() => statement.Dispose();
    }
}
