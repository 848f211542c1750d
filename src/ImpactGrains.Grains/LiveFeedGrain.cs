using ImpactGrains.Abstractions;
using Microsoft.Extensions.Logging;
using Orleans.Utilities;

namespace ImpactGrains.Grains;

/// <inheritdoc cref="ILiveFeedGrain"/>
/// <remarks>
/// Observers rather than streams: the feed is live-only (history comes from the API), and one observer per silo is
/// all the fan-out it needs. Publishers already batch (a partition publishes at most a few times a second), so this
/// single grain sees a handful of calls per second, not one per event.
/// </remarks>
public sealed class LiveFeedGrain(IEnumerable<ILiveFeedListener> listeners, ILogger<LiveFeedGrain> logger) : Grain, ILiveFeedGrain
{
    /// <summary>Observers that have not renewed within this time are dropped (their silo is gone).</summary>
    public static readonly TimeSpan ObserverExpiry = TimeSpan.FromMinutes(1);

    private readonly ObserverManager<ILiveFeedObserver> observers = new(ObserverExpiry, logger);
    private readonly string epoch = Guid.NewGuid().ToString("N")[..12];
    private long next;

    public Task PublishAsync(IReadOnlyList<LiveMessage> messages)
    {
        var numbered = messages.Select(m => m with { Epoch = epoch, Id = ++next }).ToList();
        observers.Notify(o => o.OnMessages(numbered));
        foreach (var listener in listeners)
        {
            listener.OnPublished(numbered);
        }

        return Task.CompletedTask;
    }

    public Task SubscribeAsync(ILiveFeedObserver observer)
    {
        observers.Subscribe(observer, observer);
        return Task.CompletedTask;
    }

    public Task UnsubscribeAsync(ILiveFeedObserver observer)
    {
        observers.Unsubscribe(observer);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Something in the silo that hosts the feed and must see every message exactly once cluster-wide (alert evaluation).
/// It must not block: <see cref="OnPublished"/> runs inside the feed grain's turn.
/// </summary>
public interface ILiveFeedListener
{
    void OnPublished(IReadOnlyList<LiveMessage> messages);
}
