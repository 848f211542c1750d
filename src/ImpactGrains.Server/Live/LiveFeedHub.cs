using System.Collections.Concurrent;
using System.Threading.Channels;
using ImpactGrains.Abstractions;

namespace ImpactGrains.Server.Live;

public sealed class LiveFeedOptions
{
    /// <summary>How many recent messages each silo keeps for clients that resume with Last-Event-ID.</summary>
    public int ReplayBuffer { get; set; } = 4096;

    /// <summary>How many messages may wait for one client; a client that falls further behind is dropped.</summary>
    public int ClientBuffer { get; set; } = 1024;

    /// <summary>Stream connections one silo serves at most.</summary>
    public int MaxClients { get; set; } = 1000;

    /// <summary>
    /// How long a silo keeps receiving the feed after its last stream client left, so that a client reconnecting within
    /// it resumes with Last-Event-ID. A silo without clients then receives nothing: every silo deserialising every
    /// score message whether anyone watched or not grew the cluster's CPU per event with its size (docs/performance.md).
    /// </summary>
    public TimeSpan IdleAfter { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// This silo's end of the live feed: while it has stream clients (and <see cref="LiveFeedOptions.IdleAfter"/> after the
/// last one left) it observes <see cref="ILiveFeedGrain"/>, renewing its subscription, keeps a short replay buffer for
/// Last-Event-ID, and hands each message to every connected stream client's bounded queue.
/// </summary>
public sealed partial class LiveFeedHub(
    IGrainFactory grains, ILocalSiloDetails localSilo, Microsoft.Extensions.Options.IOptions<LiveFeedOptions> options, ILogger<LiveFeedHub> logger)
    : BackgroundService, ILiveFeedObserver
{
    private static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<Guid, LiveClient> clients = new();
    private readonly object bufferLock = new();
    private readonly LinkedList<LiveMessage> buffer = new();

    public int ClientCount => clients.Count;

    private readonly object subscriptionLock = new();
    private TaskCompletionSource wake = NewSignal();
    private TaskCompletionSource subscribed = NewSignal();
    private long lastClientLeftTicks; // 0: no client has left yet, so no idle time is running
    private volatile bool unsubscribed;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once this silo observes the feed, so that a client that connected and then caused events (a test, a
    /// dashboard that opens its stream and then loads state) sees what follows; at most <paramref name="timeout"/>.
    /// </summary>
    public async Task WhenReceivingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task ready;
        lock (subscriptionLock)
        {
            ready = subscribed.Task;
        }

        try
        {
            await ready.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // The feed grain is unreachable for now; the stream starts anyway and gets messages once it subscribes.
        }
    }

    private bool Wanted(long nowTicks) =>
        !clients.IsEmpty || nowTicks - Volatile.Read(ref lastClientLeftTicks) < options.Value.IdleAfter.Ticks;

    private void Wake()
    {
        lock (subscriptionLock)
        {
            wake.TrySetResult();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var self = grains.CreateObjectReference<ILiveFeedObserver>(this);
        var feed = grains.GetGrain<ILiveFeedGrain>(0);
        var observing = false;
        var renewAt = 0L;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Task woken;
                lock (subscriptionLock)
                {
                    wake = NewSignal();
                    woken = wake.Task;
                }

                var now = DateTime.UtcNow.Ticks;
                var wait = RenewEvery;
                try
                {
                    if (Wanted(now))
                    {
                        if (!observing || now >= renewAt)
                        {
                            unsubscribed = false;
                            await feed.SubscribeAsync(self, localSilo.SiloAddress);
                            observing = true;
                            renewAt = now + RenewEvery.Ticks;
                            lock (subscriptionLock)
                            {
                                subscribed.TrySetResult();
                            }
                        }

                        wait = TimeSpan.FromTicks(Math.Max(0, renewAt - now));
                        if (clients.IsEmpty)
                        {
                            // Wake when the idle time is up, to stop.
                            var left = TimeSpan.FromTicks(Volatile.Read(ref lastClientLeftTicks) + options.Value.IdleAfter.Ticks - now);
                            wait = left < wait ? left : wait;
                        }
                    }
                    else if (observing)
                    {
                        lock (subscriptionLock)
                        {
                            subscribed = NewSignal();
                        }

                        // Not observing from here on even if the call fails (the feed then drops the observer at its
                        // expiry), so that a client connecting meanwhile subscribes again and is told when it has. What
                        // follows will not all be received, so nothing buffered can serve a resumption, and messages
                        // still on their way are dropped rather than buffered after the gap.
                        observing = false;
                        unsubscribed = true;
                        lock (bufferLock)
                        {
                            buffer.Clear();
                        }

                        await feed.UnsubscribeAsync(self);

                        LogStoppedObserving(options.Value.IdleAfter);
                    }
                    else
                    {
                        wait = Timeout.InfiniteTimeSpan; // nothing to renew until a client connects
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogSubscribeFailed(ex);
                    wait = TimeSpan.FromSeconds(1);
                }

                if (wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
                {
                    wait = TimeSpan.Zero;
                }

                await Task.WhenAny(woken, Task.Delay(wait, stoppingToken));
                stoppingToken.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Close("the server is shutting down; reconnect to another instance");
            }

            try
            {
                await feed.UnsubscribeAsync(self).WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception)
            {
                // The feed drops observers that stop renewing.
            }

            grains.DeleteObjectReference<ILiveFeedObserver>(self);
        }
    }

    public void OnMessages(IReadOnlyList<LiveMessage> messages)
    {
        if (unsubscribed)
        {
            return; // sent before the feed took the unsubscription; the buffer must stay empty after the gap
        }

        // Under the lock, so that a client connecting meanwhile sees each message once: replayed or live.
        lock (bufferLock)
        {
            foreach (var message in messages)
            {
                if (buffer.Last?.Value is { } last && (last.Epoch != message.Epoch || message.Id != last.Id + 1))
                {
                    // A new feed activation numbers from 1 again; a gap (this silo stopped observing while it had no
                    // clients) would make a resumption skip messages silently. Either way the old ones cannot serve one.
                    buffer.Clear();
                }

                buffer.AddLast(message);
                if (buffer.Count > options.Value.ReplayBuffer)
                {
                    buffer.RemoveFirst();
                }

                foreach (var client in clients.Values)
                {
                    client.Offer(message);
                }
            }
        }
    }

    /// <summary>Connects a client; null when this silo already serves its maximum.</summary>
    public LiveClient? Connect(Func<LiveMessage, bool> filter, string? lastEventId, out bool resumed)
    {
        resumed = false;
        if (clients.Count >= options.Value.MaxClients)
        {
            return null;
        }

        LiveClient? client = null;
        client = new LiveClient(filter, options.Value.ClientBuffer, () => Disconnected(client!.Id));
        lock (bufferLock)
        {
            // Resume only inside the same epoch and only if nothing after the client's last id has left the buffer.
            if (lastEventId is not null && ParseId(lastEventId) is { } last && buffer.First is { } first &&
                first.Value.Epoch == last.Epoch && first.Value.Id <= last.Id + 1)
            {
                foreach (var message in buffer.Where(m => m.Id > last.Id))
                {
                    client.Offer(message);
                }

                resumed = true;
            }

            clients[client.Id] = client;
        }

        Wake(); // the first client of an idle silo starts the subscription
        return client;
    }

    private void Disconnected(Guid id)
    {
        if (clients.TryRemove(id, out _) && clients.IsEmpty)
        {
            Volatile.Write(ref lastClientLeftTicks, DateTime.UtcNow.Ticks);
            Wake(); // to schedule the end of the idle time
        }
    }

    public static string FormatId(LiveMessage message) => $"{message.Epoch}-{message.Id}";

    private static (string Epoch, long Id)? ParseId(string text)
    {
        var dash = text.LastIndexOf('-');
        return dash > 0 && long.TryParse(text.AsSpan(dash + 1), out var id) ? (text[..dash], id) : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to the live feed; retrying")]
    private partial void LogSubscribeFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "No stream client for {IdleAfter}: this silo stops receiving the live feed until one connects")]
    private partial void LogStoppedObserving(TimeSpan idleAfter);
}

/// <summary>One stream connection: a bounded queue; falling behind closes it with a reason rather than buffering without bound.</summary>
public sealed class LiveClient(Func<LiveMessage, bool> filter, int capacity, Action onClose)
{
    private readonly Channel<LiveMessage> queue = Channel.CreateBounded<LiveMessage>(new BoundedChannelOptions(capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full, which is how a slow client is noticed
    });

    public Guid Id { get; } = Guid.NewGuid();

    /// <summary>Why the stream ended, when the server ended it.</summary>
    public string? CloseReason { get; private set; }

    public ChannelReader<LiveMessage> Messages => queue.Reader;

    public void Offer(LiveMessage message)
    {
        if (filter(message) && !queue.Writer.TryWrite(message))
        {
            Close($"the client fell more than {capacity} messages behind and was dropped; reconnect and resume with Last-Event-ID");
        }
    }

    public void Close(string reason)
    {
        CloseReason ??= reason;
        if (queue.Writer.TryComplete())
        {
            onClose();
        }
    }

    public void Detach()
    {
        queue.Writer.TryComplete();
        onClose();
    }
}
