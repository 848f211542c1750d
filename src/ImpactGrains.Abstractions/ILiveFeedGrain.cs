namespace ImpactGrains.Abstractions;

/// <summary>
/// The cluster-wide fan-out of the live feed: publishers (leaderboard partitions, alerting, spike detection) send it
/// batches; it numbers them and forwards them to one observer per silo, which serves that silo's stream clients.
/// </summary>
public interface ILiveFeedGrain : IGrainWithIntegerKey
{
    Task PublishAsync(IReadOnlyList<LiveMessage> messages);

    /// <summary>
    /// Whether anything would read entities' score changes now: an observer (a silo with stream clients) or a listener
    /// in the feed's silo that wants them (alert rules). Publishers ask before building those messages, which are most
    /// of the feed and, with nobody watching, were built, numbered and dropped for every changed entity.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<bool> HasScoreAudienceAsync();

    /// <summary>
    /// Subscribes the observer of <paramref name="silo"/>; observers renew their subscription periodically, and one whose
    /// silo the cluster declares dead is dropped.
    /// </summary>
    Task SubscribeAsync(ILiveFeedObserver observer, SiloAddress silo);

    Task UnsubscribeAsync(ILiveFeedObserver observer);
}

public interface ILiveFeedObserver : IGrainObserver
{
    void OnMessages(IReadOnlyList<LiveMessage> messages);
}
