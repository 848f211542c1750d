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
}

/// <summary>
/// This silo's end of the live feed: it observes <see cref="ILiveFeedGrain"/> (renewing its subscription), keeps a
/// short replay buffer for Last-Event-ID, and hands each message to every connected stream client's bounded queue.
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var self = grains.CreateObjectReference<ILiveFeedObserver>(this);
        var feed = grains.GetGrain<ILiveFeedGrain>(0);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await feed.SubscribeAsync(self, localSilo.SiloAddress);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogSubscribeFailed(ex);
                }

                await Task.Delay(RenewEvery, stoppingToken);
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
        // Under the lock, so that a client connecting meanwhile sees each message once: replayed or live.
        lock (bufferLock)
        {
            foreach (var message in messages)
            {
                if (buffer.Last?.Value is { } last && last.Epoch != message.Epoch)
                {
                    buffer.Clear(); // a new feed activation numbers from 1 again
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
        client = new LiveClient(filter, options.Value.ClientBuffer, () => clients.TryRemove(client!.Id, out _));
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

        return client;
    }

    public static string FormatId(LiveMessage message) => $"{message.Epoch}-{message.Id}";

    private static (string Epoch, long Id)? ParseId(string text)
    {
        var dash = text.LastIndexOf('-');
        return dash > 0 && long.TryParse(text.AsSpan(dash + 1), out var id) ? (text[..dash], id) : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to the live feed; retrying")]
    private partial void LogSubscribeFailed(Exception exception);
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
