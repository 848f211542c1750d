using System.Runtime.ExceptionServices;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Ingestion;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace ImpactGrains.Server.Feeds;

/// <summary>
/// Consumes events from a NATS JetStream stream through one durable pull consumer that every silo shares, so each
/// message goes to one silo at a time and the work spreads over the cluster. Each of <see cref="NatsFeedOptions.Concurrency"/>
/// workers fetches what is waiting, at most its share of <see cref="NatsFeedOptions.MaxInFlight"/> messages (so a silo
/// never holds more, however long the stream), reads every message as POST /api/events reads a body, and hands their
/// events to <see cref="IngestionService"/> together. A message is acknowledged only after its accepted events are
/// committed to the log and its rejected ones are published to the rejected subject; exactly once comes from the log,
/// which counts an id it already holds as a duplicate, so a redelivery changes nothing. A storage outage is a negative
/// acknowledgement with a delay, and this silo pauses fetching for as long. The connection reconnects by itself; the
/// stream and consumer are set up again whenever fetching fails.
/// </summary>
public sealed partial class NatsFeedConsumer(
    IOptions<NatsFeedOptions> feedOptions,
    IOptions<ImpactOptions> impactOptions,
    IngestionService ingestion,
    FeedStatus status,
    FeedMetrics metrics,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory,
    ILogger<NatsFeedConsumer> logger) : BackgroundService
{
    /// <summary>How long an idle worker's fetch waits for the next message before asking again.</summary>
    private static readonly TimeSpan IdleFetchExpiry = TimeSpan.FromSeconds(5);

    /// <summary>How often whether a stream stores the rejected subject is looked up again.</summary>
    private static readonly TimeSpan RejectedStreamRecheck = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly Lock rejectedGate = new();
    private DateTime rejectedCheckedAt = DateTime.MinValue;
    private bool rejectedStored;

    private NatsFeedOptions Feed => feedOptions.Value;

    private static string ClientName => $"impactgrains {Environment.MachineName} {Environment.ProcessId}";

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        // Consume once the host has started: the silo is active and the HTTP API answers.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stopping.Register(() => started.TrySetCanceled()))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        metrics.Initialize();
        var backoff = TimeSpan.FromMilliseconds(500);
        while (!stopping.IsCancellationRequested)
        {
            var connection = new NatsConnection(Feed.ToNatsOpts(ClientName, loggerFactory));
            connection.ConnectionDisconnected += OnDisconnectedAsync;
            connection.ConnectionOpened += OnOpenedAsync;
            status.Connection = connection;
            try
            {
                await connection.ConnectAsync();
                status.LastError = null;
                var js = new NatsJSContext(connection);
                var consumer = await SetUpAsync(js, stopping);
                status.Problem = null;
                status.Consuming = true;
                LogConsuming(Feed.DisplayServers, Feed.Stream, Feed.Consumer, Feed.MaxInFlight, Feed.Concurrency);
                backoff = TimeSpan.FromMilliseconds(500);
                await ConsumeAsync(connection, js, consumer, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (FeedSetupException e)
            {
                status.Problem = e.Message;
                LogSetupProblem(e.Message, backoff);
            }
            catch (Exception e)
            {
                status.Problem = null;
                status.LastError = Describe(e);
                LogFeedFailed(Feed.DisplayServers, status.LastError, backoff);
            }
            finally
            {
                status.Consuming = false;
                connection.ConnectionDisconnected -= OnDisconnectedAsync;
                connection.ConnectionOpened -= OnOpenedAsync;
                await connection.DisposeAsync();
            }

            try
            {
                await Task.Delay(backoff, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }

        status.Connection = null;
    }

    private ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
    {
        status.LastError = "disconnected";
        LogDisconnected(Feed.DisplayServers);
        return ValueTask.CompletedTask;
    }

    private ValueTask OnOpenedAsync(object? sender, NatsEventArgs args)
    {
        status.LastError = null;
        LogConnected(Feed.DisplayServers);
        return ValueTask.CompletedTask;
    }

    /// <summary>The stream (created when missing, unless that is switched off) and the shared durable consumer.</summary>
    private async Task<INatsJSConsumer> SetUpAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        var feed = Feed;
        INatsJSStream stream;
        try
        {
            stream = await js.GetStreamAsync(feed.Stream, cancellationToken: cancellationToken);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            if (!feed.CreateStream)
            {
                throw new FeedSetupException($"the stream {feed.Stream} does not exist and {NatsFeedOptions.Section}:CreateStream is false; " +
                                             $"create it (for example with the subjects {feed.Subjects}) or let the server create it");
            }

            try
            {
                stream = await js.CreateStreamAsync(new StreamConfig(feed.Stream, [.. feed.SubjectList])
                {
                    Description = "Impact events for ImpactGrains (created by a silo)",
                    Storage = StreamConfigStorage.File,
                    Retention = StreamConfigRetention.Limits,
                    MaxAge = feed.StreamMaxAge,
                }, cancellationToken);
                LogStreamCreated(feed.Stream, feed.Subjects);
            }
            catch (NatsJSApiException again) when (again.Error.ErrCode == 10058)
            {
                // Another silo created it first.
                stream = await js.GetStreamAsync(feed.Stream, cancellationToken: cancellationToken);
            }
            catch (NatsJSApiException again)
            {
                throw new FeedSetupException($"the stream {feed.Stream} cannot be created: {again.Error.Description} (error {again.Error.ErrCode})");
            }
        }

        var subjects = stream.Info.Config.Subjects ?? [];
        if (subjects.FirstOrDefault(s => NatsFeedOptions.Matches(s, feed.RejectedSubject)) is { } covering)
        {
            throw new FeedSetupException($"the stream {feed.Stream} takes the rejected subject {feed.RejectedSubject} (its subject '{covering}'), " +
                                         "so rejected events would be consumed again; choose another rejected subject");
        }

        try
        {
            return await js.CreateOrUpdateConsumerAsync(feed.Stream, new ConsumerConfig(feed.Consumer)
            {
                Description = "ImpactGrains silos: events into the event log",
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                AckWait = feed.AckWait,
                // Never given up: a message is acknowledged once its events are committed, however long storage is away.
                MaxDeliver = -1,
                // The whole cluster's bound; each silo holds at most MaxInFlight of them.
                MaxAckPending = Math.Max(1000, feed.MaxInFlight * 32),
            }, cancellationToken);
        }
        catch (NatsJSApiException e)
        {
            throw new FeedSetupException($"the consumer {feed.Consumer} on {feed.Stream} cannot be created or updated: {e.Error.Description} (error {e.Error.ErrCode})");
        }
    }

    /// <summary>Runs the workers and the lag reader until shutdown, or until fetching fails (then the caller sets up again).</summary>
    private async Task ConsumeAsync(NatsConnection connection, NatsJSContext js, INatsJSConsumer consumer, CancellationToken stopping)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var perWorker = Math.Max(1, Feed.MaxInFlight / Feed.Concurrency);
        Exception? failure = null;
        var workers = Enumerable.Range(0, Feed.Concurrency).Select(_ => Task.Run(async () =>
        {
            try
            {
                await WorkAsync(connection, js, consumer, perWorker, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, e, null);
                await stop.CancelAsync();
            }
        }, CancellationToken.None)).ToList();
        var lag = WatchLagAsync(consumer, stop.Token);
        await Task.WhenAll(workers);
        await stop.CancelAsync();
        await lag;
        if (failure is not null && !stopping.IsCancellationRequested)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        stopping.ThrowIfCancellationRequested();
    }

    private async Task WorkAsync(NatsConnection connection, NatsJSContext js, INatsJSConsumer consumer, int batchMessages, CancellationToken stop)
    {
        var fetched = new List<INatsJSMsg<NatsMemoryOwner<byte>>>(batchMessages);
        while (!stop.IsCancellationRequested)
        {
            fetched.Clear();
            // What is waiting now, up to this worker's share; when nothing is, wait for the next message alone.
            await FetchAsync(consumer, fetched, new NatsJSFetchOpts { MaxMsgs = batchMessages }, noWait: true, stop);
            if (fetched.Count == 0)
            {
                await FetchAsync(consumer, fetched, new NatsJSFetchOpts { MaxMsgs = 1, Expires = IdleFetchExpiry }, noWait: false, stop);
                if (fetched.Count == 0)
                {
                    continue;
                }
            }

            status.AddInFlight(fetched.Count);
            bool pause;
            try
            {
                pause = await ProcessAsync(connection, js, fetched);
            }
            finally
            {
                status.AddInFlight(-fetched.Count);
                foreach (var message in fetched)
                {
                    message.Data.Dispose();
                }
            }

            if (pause)
            {
                await Task.Delay(Feed.NakDelay, stop);
            }
        }
    }

    private static async Task FetchAsync(INatsJSConsumer consumer, List<INatsJSMsg<NatsMemoryOwner<byte>>> into, NatsJSFetchOpts options, bool noWait, CancellationToken stop)
    {
        // A fetch ends by itself when it expires; the limit only guards against one that never does.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stop);
        limit.CancelAfter(IdleFetchExpiry + TimeSpan.FromSeconds(30));
        try
        {
            var messages = noWait
                ? consumer.FetchNoWaitAsync<NatsMemoryOwner<byte>>(options, cancellationToken: limit.Token)
                : consumer.FetchAsync<NatsMemoryOwner<byte>>(options, cancellationToken: limit.Token);
            await foreach (var message in messages)
            {
                into.Add(message);
            }
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            throw new TimeoutException("a fetch from the consumer did not end in time");
        }
    }

    /// <summary>
    /// Ingests one fetch: unreadable messages go to the rejected subject whole; the readable ones are ingested in groups of
    /// at most MaxEventsPerRequest events. Returns whether the worker should pause (the messages were negatively acknowledged).
    /// </summary>
    private async Task<bool> ProcessAsync(NatsConnection connection, NatsJSContext js, List<INatsJSMsg<NatsMemoryOwner<byte>>> messages)
    {
        var maxEvents = impactOptions.Value.Ingestion.MaxEventsPerRequest;
        var latest = ingestion.LatestAllowed;
        var reads = new FeedRead[messages.Count];
        var settled = new bool[messages.Count];
        var unreadable = new List<int>();
        var groups = new List<List<int>>();
        var groupEvents = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            reads[i] = FeedMessageReader.Read(messages[i].Data.Memory.Span, ContentType(messages[i]), maxEvents, latest);
            if (reads[i].Events is not { } events)
            {
                unreadable.Add(i);
                metrics.Consumed.Add(1);
                continue;
            }

            metrics.Consumed.Add(events.Count);
            if (groups.Count == 0 || groupEvents + events.Count > maxEvents)
            {
                groups.Add([]);
                groupEvents = 0;
            }

            groups[^1].Add(i);
            groupEvents += events.Count;
        }

        using var keepAlive = KeepAlive(messages, settled);
        try
        {
            if (unreadable.Count > 0)
            {
                var whole = unreadable.Select(i => Rejected(messages[i], "message", reads[i].Problem!, null, messages[i].Data.Memory.Span)).ToList();
                await PublishRejectedAsync(connection, js, whole);
                await AckAsync(messages, unreadable, settled);
                metrics.Rejected.Add(unreadable.Count);
                metrics.Messages.Add(unreadable.Count, new KeyValuePair<string, object?>("outcome", "unreadable"));
                foreach (var i in unreadable)
                {
                    LogUnreadable(messages[i].Subject, Sequence(messages[i]), reads[i].Problem!);
                }
            }

            foreach (var group in groups)
            {
                var parsed = new List<EventParseResult>();
                var firsts = new int[group.Count];
                for (var g = 0; g < group.Count; g++)
                {
                    firsts[g] = parsed.Count;
                    parsed.AddRange(reads[group[g]].Events!);
                }

                // The commit finishes even when the host is stopping: the messages are then acknowledged, not redelivered.
                var result = await ingestion.IngestAsync(parsed, CancellationToken.None);
                if (result.Rejected.Count > 0)
                {
                    var ranges = new Dictionary<int, IReadOnlyList<Range>>();
                    var rejections = new List<Rejection>(result.Rejected.Count);
                    foreach (var rejected in result.Rejected)
                    {
                        var g = Array.BinarySearch(firsts, rejected.Index);
                        g = g >= 0 ? g : ~g - 1;
                        var i = group[g];
                        var local = rejected.Index - firsts[g];
                        var body = messages[i].Data.Memory.Span;
                        if (!ranges.TryGetValue(i, out var eventRanges))
                        {
                            ranges[i] = eventRanges = FeedMessageReader.EventRanges(body, reads[i].Format);
                        }

                        var received = local < eventRanges.Count ? body[eventRanges[local]] : body;
                        rejections.Add(Rejected(messages[i], local.ToString(System.Globalization.CultureInfo.InvariantCulture), rejected.Error, rejected.Id, received));
                    }

                    await PublishRejectedAsync(connection, js, rejections);
                }

                await AckAsync(messages, group, settled);
                metrics.Accepted.Add(result.Accepted);
                metrics.Duplicates.Add(result.Duplicates);
                metrics.Rejected.Add(result.Rejected.Count);
                metrics.Messages.Add(group.Count, new KeyValuePair<string, object?>("outcome", "acked"));
                LogIngested(group.Count, result.Accepted, result.Duplicates, result.Rejected.Count);
            }

            return false;
        }
        catch (Exception e)
        {
            var unsettled = Enumerable.Range(0, messages.Count).Where(i => !settled[i]).ToList();
            if (StorageUnavailableHandler.IsStorageFailure(e))
            {
                LogStorageUnavailable(unsettled.Count, Feed.NakDelay, e.Message);
            }
            else
            {
                LogProcessingFailed(e, unsettled.Count, Feed.NakDelay);
            }

            await Task.WhenAll(unsettled.Select(async i =>
            {
                try
                {
                    await messages[i].NakAsync(new AckOpts { NakDelay = Feed.NakDelay });
                }
                catch (Exception nak)
                {
                    // Not acknowledged either way: JetStream redelivers it after AckWait.
                    LogNakFailed(nak.Message);
                }
            }));
            metrics.Messages.Add(unsettled.Count, new KeyValuePair<string, object?>("outcome", "nak"));
            return true;
        }
    }

    /// <summary>Tells JetStream that the batch's unsettled messages are still being worked on, every third of AckWait.</summary>
    private CancellationTokenSource KeepAlive(List<INatsJSMsg<NatsMemoryOwner<byte>>> messages, bool[] settled)
    {
        var done = new CancellationTokenSource();
        var every = Feed.AckWait / 3;
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await Task.Delay(every, done.Token);
                    for (var i = 0; i < messages.Count; i++)
                    {
                        if (!Volatile.Read(ref settled[i]))
                        {
                            await messages[i].AckProgressAsync(cancellationToken: done.Token);
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                LogKeepAliveFailed(e.Message);
            }
        }, CancellationToken.None);
        return done;
    }

    private static async Task AckAsync(List<INatsJSMsg<NatsMemoryOwner<byte>>> messages, List<int> which, bool[] settled)
    {
        // Confirmed by the server (double ack): the message is settled before this silo fetches more, so JetStream's own
        // count of unacknowledged messages never exceeds the silo's in-flight bound.
        await Task.WhenAll(which.Select(i => messages[i].AckAsync(new AckOpts { DoubleAck = true }).AsTask()));
        foreach (var i in which)
        {
            Volatile.Write(ref settled[i], true);
        }
    }

    private readonly record struct Rejection(byte[] Body, string MessageId, string SourceSubject, ulong SourceSequence);

    private Rejection Rejected(INatsJSMsg<NatsMemoryOwner<byte>> message, string part, string error, string? id, ReadOnlySpan<byte> received)
    {
        var sequence = Sequence(message);
        // A redelivered message's rejections carry the same ids, so a stream on the rejected subject keeps them once.
        return new Rejection(FeedMessageReader.Rejection(error, id, received), $"{Feed.Stream}:{sequence}:{part}", message.Subject, sequence);
    }

    private static ulong Sequence(INatsJSMsg<NatsMemoryOwner<byte>> message) => message.Metadata?.Sequence.Stream ?? 0;

    /// <summary>
    /// Publishes rejections to the rejected subject: through JetStream, each confirmed, when a stream stores that subject;
    /// otherwise as plain NATS messages, confirmed by a round trip to the server.
    /// </summary>
    private async Task PublishRejectedAsync(NatsConnection connection, NatsJSContext js, List<Rejection> rejections)
    {
        if (rejections.Count == 0)
        {
            return;
        }

        var subject = Feed.RejectedSubject;
        if (await RejectedStoredAsync(js))
        {
            foreach (var chunk in rejections.Chunk(64))
            {
                await Task.WhenAll(chunk.Select(async r =>
                {
                    var ack = await js.PublishAsync(subject, r.Body, opts: new NatsJSPubOpts { MsgId = r.MessageId }, headers: Headers(r));
                    ack.EnsureSuccess();
                }));
            }
        }
        else
        {
            foreach (var r in rejections)
            {
                await connection.PublishAsync(subject, r.Body, Headers(r));
            }

            await connection.PingAsync();
        }
    }

    private static NatsHeaders Headers(Rejection r) => new()
    {
        ["Content-Type"] = "application/json",
        ["Nats-Msg-Id"] = r.MessageId,
        ["Impact-Source-Subject"] = r.SourceSubject,
        ["Impact-Source-Sequence"] = r.SourceSequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private async ValueTask<bool> RejectedStoredAsync(NatsJSContext js)
    {
        lock (rejectedGate)
        {
            if (DateTime.UtcNow - rejectedCheckedAt < RejectedStreamRecheck)
            {
                return rejectedStored;
            }
        }

        var stored = false;
        await foreach (var _ in js.ListStreamNamesAsync(Feed.RejectedSubject))
        {
            stored = true;
        }

        lock (rejectedGate)
        {
            rejectedStored = stored;
            rejectedCheckedAt = DateTime.UtcNow;
        }

        return stored;
    }

    private async Task WatchLagAsync(INatsJSConsumer consumer, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await consumer.RefreshAsync(stop);
                status.SetLag((long)consumer.Info.NumPending, consumer.Info.NumAckPending);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogLagUnknown(e.Message);
            }

            try
            {
                await Task.Delay(Feed.LagInterval, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string? ContentType(INatsJSMsg<NatsMemoryOwner<byte>> message) =>
        message.Headers is { } headers && headers.TryGetValue("Content-Type", out var value) ? value.ToString() : null;

    private static string Describe(Exception e) =>
        e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message}: {inner.Message}" : e.Message;

    private sealed class FeedSetupException(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feed: consuming from NATS at {Servers}, stream {Stream}, consumer {Consumer}; at most {MaxInFlight} messages in flight in {Concurrency} batches")]
    private partial void LogConsuming(string servers, string stream, string consumer, int maxInFlight, int concurrency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feed: created stream {Stream} for subjects {Subjects}")]
    private partial void LogStreamCreated(string stream, string subjects);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed: NATS at {Servers} cannot be used ({Error}); trying again in {Backoff}")]
    private partial void LogFeedFailed(string servers, string error, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed: not consuming: {Problem}; trying again in {Backoff}")]
    private partial void LogSetupProblem(string problem, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed: disconnected from NATS at {Servers}; reconnecting")]
    private partial void LogDisconnected(string servers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feed: connected to NATS at {Servers}")]
    private partial void LogConnected(string servers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Feed: message {Sequence} on {Subject} is unreadable and went whole to the rejected subject: {Problem}")]
    private partial void LogUnreadable(string subject, ulong sequence, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Feed: {Messages} messages ingested: {Accepted} accepted, {Duplicates} duplicates, {Rejected} rejected")]
    private partial void LogIngested(int messages, int accepted, int duplicates, int rejected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed: the event log is unavailable; {Messages} messages negatively acknowledged, redelivered after {Delay} ({Error})")]
    private partial void LogStorageUnavailable(int messages, TimeSpan delay, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Feed: {Messages} messages could not be ingested and are negatively acknowledged, redelivered after {Delay}")]
    private partial void LogProcessingFailed(Exception exception, int messages, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Feed: a negative acknowledgement failed ({Error}); JetStream redelivers after AckWait")]
    private partial void LogNakFailed(string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Feed: a progress acknowledgement failed ({Error})")]
    private partial void LogKeepAliveFailed(string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Feed: the consumer's pending count could not be read ({Error})")]
    private partial void LogLagUnknown(string error);
}
