using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using ImpactGrains.Scoring.Events;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace ImpactGrains.Storage.Sqlite;

/// <summary>
/// The embedded event log. Appends from all requests queue to one writer thread, which commits whatever has gathered
/// in a single transaction (group commit): one fsync serves many requests, and no request is answered before its
/// commit. Per event it writes two B-tree entries (docs/architecture.md), the id's hash and the row clustered by
/// (entity, sequence), and widens its zone's range in the time map (<see cref="EventTimeZones"/>, a row per 256
/// events); each entity's next sequence comes from memory, since this thread is the file's only writer. Removing
/// delivered outbox rows also goes through this writer, in its next transaction: SQLite has one write lock per file,
/// and a second writing connection made every commit wait on the busy handler's sleeps. WAL checkpoints run on a
/// thread of their own, off the commit path.
/// </summary>
public sealed class SqliteEventLog : IEventLog, IDisposable
{
    /// <summary>How many events one commit may carry; more wait for the next commit.</summary>
    public const int MaxEventsPerCommit = 50_000;

    /// <summary>The WAL file's size past which the writer restarts it.</summary>
    public const long DefaultWalLimitBytes = 64L << 20;

    /// <summary>
    /// How much of the WAL file a restart keeps (SQLite's <c>journal_size_limit</c>), as a multiple of the restart size.
    /// The WAL grows past its limit until the checkpointer's next tick notices (about 100 MB a second under load), and a
    /// file cut back to the limit at every restart grew again in every cycle: the kernel's allocation and zeroing of
    /// the new blocks took 15% of the writer's time (docs/performance.md). A file kept at four times the limit is
    /// rewritten in place.
    /// </summary>
    public const int DefaultWalKeptLimits = 4;

    private readonly SqliteDatabase database;
    private readonly CommitFeed? feed;
    private readonly AppendQueue<PendingAppend> queue = new(events => new PendingAppend(events));

    private readonly ConfirmedDeliveries confirmedDeliveries;
    private readonly Thread writerThread;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task checkpointer;

    // The writer's view of each entity's last sequence; only the writer thread touches it. An entity's first append
    // reads it from the log's primary key.
    private readonly Dictionary<string, long> heads = new(StringComparer.Ordinal);

    private readonly TimeMapCache timeMaps = new();

    // Set by the checkpointer when the WAL file has outgrown WalLimitBytes; the writer then checkpoints between two
    // commits (see WriterLoop).
    private volatile bool walRestartDue;

    public SqliteEventLog(SqliteDatabase database, CommitFeed? feed = null, long walLimitBytes = DefaultWalLimitBytes, long? walKeptBytes = null)
    {
        WalKeptBytes = walKeptBytes ?? walLimitBytes * DefaultWalKeptLimits;
        this.database = database;
        this.feed = feed;
        WalLimitBytes = walLimitBytes;
        confirmedDeliveries = new ConfirmedDeliveries(queue.Wake);
        writerThread = new Thread(WriterLoop) { IsBackground = true, Name = "event-log-writer" };
        writerThread.Start();
        checkpointer = Task.Run(CheckpointLoopAsync);
    }

    /// <summary>
    /// An append with what the writer needs already computed by the appending request (the writer is one thread for
    /// every request, so it does only what must be serial): each event's body and id hash, end to end in two arrays.
    /// </summary>
    private sealed class PendingAppend : QueuedAppend
    {
        public PendingAppend(IReadOnlyList<ImpactEvent> events)
            : base(events)
        {
            Bodies = EncodeBodies(events, out var ends);
            BodyEnds = ends;
            Hashes = HashIds(events);
        }

        public byte[] Bodies { get; }

        public int[] BodyEnds { get; }

        public byte[] Hashes { get; }

        public ReadOnlySpan<byte> Body(int i) => Bodies.AsSpan((i == 0 ? 0 : BodyEnds[i - 1])..BodyEnds[i]);

        public ReadOnlySpan<byte> Hash(int i) => Hashes.AsSpan(i * EventIdHash.Length, EventIdHash.Length);
    }

    private static byte[] EncodeBodies(IReadOnlyList<ImpactEvent> events, out int[] ends)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(1, events.Count * 48));
        ends = new int[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            EventCodec.Write(buffer, events[i]);
            ends[i] = buffer.WrittenCount;
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] HashIds(IReadOnlyList<ImpactEvent> events)
    {
        var hashes = new byte[events.Count * EventIdHash.Length];
        for (var i = 0; i < events.Count; i++)
        {
            EventIdHash.Compute(events[i].Id, hashes.AsSpan(i * EventIdHash.Length, EventIdHash.Length));
        }

        return hashes;
    }

    public long WalLimitBytes { get; }

    public long WalKeptBytes { get; }

    private string WalPath => new SqliteConnectionStringBuilder(database.LogConnectionString).DataSource + "-wal";

    public Task<AppendResult> AppendAsync(IReadOnlyList<ImpactEvent> events, CancellationToken cancellationToken = default) =>
        queue.AppendAsync(events, cancellationToken);

    private void WriterLoop()
    {
        using var connection = SqliteDatabase.Open(database.LogConnectionString);
        using (var pragma = connection.CreateCommand())
        {
            // FULL: a commit is on disk before it is acknowledged, so even a power cut keeps acknowledged events.
            // The page cache holds the tails of the entities' ranges and the hot part of the id index; checkpoints
            // are this class's own (CheckpointLoopAsync), not the commit's.
            pragma.CommandText = $"""
                PRAGMA synchronous = FULL; PRAGMA journal_mode = WAL; PRAGMA cache_size = -{database.LogCacheKiB};
                PRAGMA mmap_size = 1073741824; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;
                PRAGMA journal_size_limit = {WalKeptBytes};
                """;
            pragma.ExecuteNonQuery();
        }

        var db = connection.Handle ?? throw new InvalidOperationException("the log's connection is not open");
        using var insertId = new Statement(db, "INSERT INTO event_ids (hash) VALUES (?1) ON CONFLICT DO NOTHING");
        using var insertEvent = new Statement(db, """
            INSERT INTO event_log (entity, entity_seq, occurred_at, recorded_at, event_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """);
        using var readHead = new Statement(db, "SELECT max(entity_seq) FROM event_log WHERE entity = ?1");
        using var upsertZone = new Statement(db, $"""
            INSERT INTO {EventTimeZones.Table} (entity, zone, min_at, max_at) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT DO UPDATE SET min_at = min(min_at, excluded.min_at), max_at = max(max_at, excluded.max_at)
            """);
        using var insertOutbox = new Statement(db, "INSERT INTO pending_deliveries (created_at, targets) VALUES (?1, ?2) RETURNING id");
        using var deleteOutbox = new Statement(db, "DELETE FROM pending_deliveries WHERE id = ?1");

        var group = new List<PendingAppend>();
        var zones = new EventTimeZones();
        var completed = new List<(long Id, TaskCompletionSource Removed)>();
        while (queue.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            var eventCount = queue.TakeGroupAsync(group, MaxEventsPerCommit).AsTask().GetAwaiter().GetResult();

            confirmedDeliveries.TakeInto(completed);

            var outcomes = new AppendOutcome[group.Count][];
            var committed = new List<CommittedEvent>(eventCount);
            long deliveryId = 0;
            var through = new Dictionary<string, long>(StringComparer.Ordinal);
            List<(string Entity, long Zone, long Min, long Max)> changedZones = [];
            try
            {
                var recordedAt = DateTimeOffset.UtcNow.UtcTicks;
                using var transaction = connection.BeginTransaction();
                foreach (var (id, _) in completed)
                {
                    deleteOutbox.Bind(1, id);
                    deleteOutbox.Execute();
                }

                for (var g = 0; g < group.Count; g++)
                {
                    var pending = group[g];
                    var results = outcomes[g] = new AppendOutcome[pending.Events.Count];
                    for (var i = 0; i < results.Length; i++)
                    {
                        insertId.Bind(1, pending.Hash(i));
                        if (insertId.Execute() == 0)
                        {
                            results[i] = AppendOutcome.Duplicated;
                            continue;
                        }

                        var e = pending.Events[i];
                        if (!heads.TryGetValue(e.Entity, out var head))
                        {
                            readHead.Bind(1, e.Entity);
                            head = readHead.ReadLongOrZero();
                        }

                        var sequence = head + 1;
                        insertEvent.Bind(1, e.Entity);
                        insertEvent.Bind(2, sequence);
                        insertEvent.Bind(3, e.OccurredAt.UtcTicks);
                        insertEvent.Bind(4, recordedAt);
                        insertEvent.Bind(5, e.Id);
                        insertEvent.Bind(6, pending.Body(i));
                        insertEvent.Execute();
                        heads[e.Entity] = through[e.Entity] = sequence;
                        zones.Add(e.Entity, sequence, e.OccurredAt.UtcTicks);
                        results[i] = new AppendOutcome(false, sequence);
                        committed.Add(new CommittedEvent(e, sequence));
                    }
                }

                changedZones = zones.Drain();
                foreach (var (entity, zone, minTicks, maxTicks) in changedZones)
                {
                    upsertZone.Bind(1, entity);
                    upsertZone.Bind(2, zone);
                    upsertZone.Bind(3, minTicks);
                    upsertZone.Bind(4, maxTicks);
                    upsertZone.Execute();
                }

                if (through.Count > 0)
                {
                    insertOutbox.Bind(1, recordedAt);
                    insertOutbox.Bind(2, JsonSerializer.Serialize(through));
                    deliveryId = insertOutbox.ReadLongOrZero();
                }

                transaction.Commit();
            }
            catch (Exception ex)
            {
                // Nothing of this group was committed: forget the heads it advanced, keep the outbox rows it was to
                // remove, and fail every request in it.
                heads.Clear();
                zones.Clear();
                confirmedDeliveries.PutBack(completed);

                foreach (var pending in group)
                {
                    pending.Completion.TrySetException(new EventLogUnavailableException("the event log could not commit the batch", ex));
                }

                continue;
            }

            ConfirmedDeliveries.Committed(completed);
            timeMaps.Committed(changedZones, through);

            var commit = committed.Count > 0 ? new CommittedGroup(committed, deliveryId, Stopwatch.GetTimestamp()) : null;
            for (var g = 0; g < group.Count; g++)
            {
                group[g].Completion.TrySetResult(new AppendResult(outcomes[g], commit is null ? 0 : deliveryId, commit));
            }

            if (commit is not null)
            {
                Publish(commit);
            }

            if (walRestartDue)
            {
                RestartWal(connection);
            }
        }
    }

    /// <summary>
    /// The background checkpoints copy the WAL into the database but never let it start over while commits keep
    /// coming: the WAL is reset only by a write that finds every frame copied, and a checkpoint that runs beside the
    /// writer always leaves the frames committed meanwhile. Under a steady load the file grew without end (36 GB after
    /// 10,000,000 events, and a restart that read it all). Between two commits, the writer copies what is left itself
    /// (little: the checkpointer did the rest); its next commit then starts the WAL over, truncated to the limit.
    /// </summary>
    private void RestartWal(SqliteConnection connection)
    {
        walRestartDue = false;
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            command.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // Another checkpoint held the lock: the checkpointer asks again on its next tick.
        }
    }

    private void Publish(CommittedGroup commit)
    {
        if (feed is null)
        {
            commit.MarkDelivered();
        }
        else
        {
            feed.Publish(commit);
        }
    }

    /// <summary>
    /// Copies committed WAL pages into the database file every second, on a connection of its own: with automatic
    /// checkpoints off, the commit that crosses the threshold no longer pays for them. PASSIVE never waits for, nor
    /// blocks, the writer or the readers.
    /// </summary>
    private async Task CheckpointLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token))
            {
                try
                {
                    await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, stopping.Token);
                    await using var command = connection.CreateCommand();
                    command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                    await command.ExecuteNonQueryAsync(stopping.Token);
                    var wal = new FileInfo(WalPath);
                    if (wal.Exists && wal.Length > WalLimitBytes)
                    {
                        walRestartDue = true;
                        queue.Wake();
                    }
                }
                catch (SqliteException)
                {
                    // The next tick tries again; a missed checkpoint only lets the WAL grow for a moment.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public Task CompleteDeliveryAsync(long deliveryId, CancellationToken cancellationToken = default) =>
        confirmedDeliveries.RemoveAsync(deliveryId, cancellationToken);

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
        command.CommandText = "SELECT entity, max(entity_seq) FROM event_log GROUP BY entity";
        return await LoggedEventRows.ReadHeadsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<LoggedEvent>> ReadEntityAsync(string entity, long afterSequence, long throughSequence = long.MaxValue, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {LoggedEventRows.Columns} FROM event_log
            WHERE entity = $entity AND entity_seq > $after AND entity_seq <= $through
            ORDER BY entity_seq
            """;
        command.Parameters.AddWithValue("$entity", entity);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$through", throughSequence);
        return await LoggedEventRows.ReadAsync(command, entity, cancellationToken);
    }

    // Zones per read of a time-ordered scan: 4,096 events, the page of the PostgreSQL log's keyset reads.
    private const int ZonesPerRead = LoggedEventRows.HistoryPage / EventTimeZones.EventsPerZone;

    public IAsyncEnumerable<LoggedEvent> ReadEntityByTimeAsync(string entity, long afterTicks, long throughTicks, long throughSequence, CancellationToken cancellationToken = default) =>
        ReadByTimeAsync(entity, descending: false, afterTicks, throughTicks, throughSequence, ZonesPerRead, cancellationToken);

    public async Task<IReadOnlyList<LoggedEvent>> ListEntityEventsAsync(string entity, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        var events = new List<LoggedEvent>(Math.Min(limit, 1024));
        if (limit <= 0)
        {
            return events;
        }

        var beforeTicks = before?.UtcTicks ?? long.MaxValue;
        await foreach (var e in ReadByTimeAsync(entity, descending: true, long.MinValue, beforeTicks == long.MinValue ? long.MinValue : beforeTicks - 1, long.MaxValue,
            zonesPerRead: Math.Min(ZonesPerRead, limit / EventTimeZones.EventsPerZone + 1), cancellationToken))
        {
            events.Add(e);
            if (events.Count == limit)
            {
                break;
            }
        }

        return events;
    }

    /// <summary>
    /// An entity's events with afterTicks &lt; occurred_at &lt;= throughTicks and entity_seq &lt;= throughSequence, in
    /// (time, sequence) order, through the time map (<see cref="EventTimeZones"/>, held by <see cref="TimeMapCache"/>).
    /// Only the sequences the zones covered when they were read are read, so events appended meanwhile (which may widen
    /// a zone already passed) stay out.
    /// </summary>
    private async IAsyncEnumerable<LoggedEvent> ReadByTimeAsync(
        string entity, bool descending, long afterTicks, long throughTicks, long throughSequence, int zonesPerRead,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (afterTicks >= throughTicks)
        {
            yield break;
        }

        var (zones, covered) = await timeMaps.FindAsync(entity, descending, afterTicks, throughTicks, throughSequence, async () =>
        {
            var all = new List<(long Zone, long Min, long Max)>();
            long last = 0;
            await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, CancellationToken.None);
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT zone, min_at, max_at, (SELECT max(entity_seq) FROM event_log WHERE entity = $entity)
                FROM {EventTimeZones.Table} WHERE entity = $entity
                """;
            command.Parameters.AddWithValue("$entity", entity);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                all.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)));
                last = reader.GetInt64(3);
            }

            return (all, last);
        });
        throughSequence = covered;

        zones.Sort((a, b) => descending ? b.Bound.CompareTo(a.Bound) : a.Bound.CompareTo(b.Bound));
        var events = EventTimeZones.MergeAsync(zones, descending, zonesPerRead, async (firstZone, lastZone, cancellation) =>
        {
            await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellation);
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT {LoggedEventRows.Columns} FROM event_log
                WHERE entity = $entity AND entity_seq BETWEEN $first AND $last AND occurred_at > $after AND occurred_at <= $through
                """;
            command.Parameters.AddWithValue("$entity", entity);
            command.Parameters.AddWithValue("$first", EventTimeZones.FirstSequence(firstZone));
            command.Parameters.AddWithValue("$last", Math.Min(EventTimeZones.LastSequence(lastZone), throughSequence));
            command.Parameters.AddWithValue("$after", afterTicks);
            command.Parameters.AddWithValue("$through", throughTicks);
            return await LoggedEventRows.ReadAsync(command, entity, cancellation);
        }, cancellationToken);
        await foreach (var e in events)
        {
            yield return e;
        }
    }

    public void Dispose()
    {
        queue.Complete();
        writerThread.Join(TimeSpan.FromSeconds(30));
        stopping.Cancel();
        try
        {
            checkpointer.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>
    /// A prepared statement driven through SQLite's own calls. Microsoft.Data.Sqlite's ExecuteNonQuery costs a data
    /// reader, parameter lookups and boxing per row: most of the writer's time per event (docs/performance.md). Runs
    /// inside the connection's current transaction.
    /// </summary>
    private sealed class Statement : IDisposable
    {
        private readonly sqlite3 db;
        private readonly sqlite3_stmt statement;

        public Statement(sqlite3 db, string sql)
        {
            this.db = db;
            Check(raw.sqlite3_prepare_v2(db, sql, out statement));
        }

        public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(statement, index, value));

        public void Bind(int index, string value) => Check(raw.sqlite3_bind_text(statement, index, value));

        public void Bind(int index, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_blob(statement, index, value));

        /// <summary>Runs the statement; returns how many rows it changed.</summary>
        public int Execute()
        {
            var step = raw.sqlite3_step(statement);
            raw.sqlite3_reset(statement);
            if (step != raw.SQLITE_DONE)
            {
                Check(step);
            }

            return raw.sqlite3_changes(db);
        }

        /// <summary>Runs a statement that returns one integer (or NULL, read as 0).</summary>
        public long ReadLongOrZero()
        {
            try
            {
                var step = raw.sqlite3_step(statement);
                if (step == raw.SQLITE_ROW)
                {
                    return raw.sqlite3_column_type(statement, 0) == raw.SQLITE_NULL ? 0 : raw.sqlite3_column_int64(statement, 0);
                }

                Check(step);
                return 0;
            }
            finally
            {
                raw.sqlite3_reset(statement);
            }
        }

        private void Check(int result)
        {
            if (result is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
            {
                throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), result);
            }
        }

        public void Dispose() => statement.Dispose();
    }
}
