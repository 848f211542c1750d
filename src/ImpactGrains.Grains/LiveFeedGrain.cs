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
public sealed partial class LiveFeedGrain(IEnumerable<ILiveFeedListener> listeners, IClusterMembershipService membership, ILogger<LiveFeedGrain> logger)
    : Grain, ILiveFeedGrain
{
    /// <summary>Observers that have not renewed within this time are dropped (their silo is gone).</summary>
    public static readonly TimeSpan ObserverExpiry = TimeSpan.FromMinutes(1);

    private readonly ObserverManager<ILiveFeedObserver> observers = new(ObserverExpiry, logger);

    // The silo of each observer: one on a silo the cluster has declared dead is dropped at once rather than at its
    // expiry. Until then every publication tried to place the message on the dead silo (a placement retried for
    // seconds, four times a second, on the silo that hosts this grain), which held a quota-bound cluster back for
    // most of a minute after losing a silo (docs/scaling.md).
    private readonly Dictionary<ILiveFeedObserver, SiloAddress> observerSilos = [];
    private readonly string epoch = Guid.NewGuid().ToString("N")[..12];
    private long next;

    public Task PublishAsync(IReadOnlyList<LiveMessage> messages)
    {
        var numbered = messages.Select(m => m with { Epoch = epoch, Id = ++next }).ToList();
        DropObserversOfDeadSilos();
        observers.Notify(o => o.OnMessages(numbered));
        foreach (var listener in listeners)
        {
            listener.OnPublished(numbered);
        }

        return Task.CompletedTask;
    }

    public Task<bool> HasScoreAudienceAsync()
    {
        DropObserversOfDeadSilos();
        observers.ClearExpired();
        return Task.FromResult(observers.Count > 0 || listeners.Any(l => l.WantsScores));
    }

    public Task SubscribeAsync(ILiveFeedObserver observer, SiloAddress silo)
    {
        observers.Subscribe(observer, observer);
        observerSilos[observer] = silo;
        return Task.CompletedTask;
    }

    public Task UnsubscribeAsync(ILiveFeedObserver observer)
    {
        observers.Unsubscribe(observer);
        observerSilos.Remove(observer);
        return Task.CompletedTask;
    }

    private void DropObserversOfDeadSilos()
    {
        if (observerSilos.Count == 0)
        {
            return;
        }

        var cluster = membership.CurrentSnapshot;
        List<(ILiveFeedObserver Observer, SiloAddress Silo)>? dead = null;
        foreach (var (observer, silo) in observerSilos)
        {
            if (cluster.GetSiloStatus(silo) == SiloStatus.Dead)
            {
                (dead ??= []).Add((observer, silo));
            }
        }

        foreach (var (observer, silo) in dead ?? [])
        {
            observers.Unsubscribe(observer);
            observerSilos.Remove(observer);
            LogDroppedDeadObserver(silo);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The live feed stopped sending to silo {Silo}: the cluster declared it dead")]
    private partial void LogDroppedDeadObserver(SiloAddress silo);
}

/// <summary>
/// Something in the silo that hosts the feed and must see every message exactly once cluster-wide (alert evaluation).
/// It must not block: <see cref="OnPublished"/> runs inside the feed grain's turn.
/// </summary>
public interface ILiveFeedListener
{
    void OnPublished(IReadOnlyList<LiveMessage> messages);

    /// <summary>
    /// Whether it would act on entities' score changes now (<see cref="ILiveFeedGrain.HasScoreAudienceAsync"/>). Read in
    /// the feed grain's turn: it must answer from memory.
    /// </summary>
    bool WantsScores { get; }
}
