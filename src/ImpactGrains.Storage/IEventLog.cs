using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Storage;

/// <summary>An event as read back from the log, with its position in its entity's sequence.</summary>
public sealed record LoggedEvent(long EntitySequence, ImpactEvent Event);

/// <summary>What the log did with one appended event.</summary>
/// <param name="EntitySequence">The event's sequence within its entity; 0 for a duplicate.</param>
public readonly record struct AppendOutcome(bool Duplicate, long EntitySequence)
{
    public static AppendOutcome Duplicated => new(true, 0);
}

/// <summary>The outcome of one append, in the order of the events given.</summary>
/// <param name="DeliveryId">
/// The outbox row of the commit that carried the append: it stands for the commit's accepted events until their
/// delivery is confirmed; 0 when none were accepted.
/// </param>
/// <param name="Commit">The commit that carried the append (shared with the other appends committed with it); null when nothing was accepted.</param>
public sealed record AppendResult(IReadOnlyList<AppendOutcome> Outcomes, long DeliveryId, CommittedGroup? Commit = null);

/// <summary>An acknowledged append whose delivery to the entity grains was never confirmed.</summary>
/// <param name="Through">For each entity, the last sequence the append gave it.</param>
public sealed record PendingDelivery(long Id, IReadOnlyDictionary<string, long> Through);

/// <summary>
/// The durable event log, the source of truth. Appends are idempotent on the event id and numbered per entity
/// (1, 2, 3, …); an append returns only after the events are committed. Every commit is also published, once, on the
/// <see cref="CommitFeed"/> the log was given, for delivery to the entity grains.
/// </summary>
public interface IEventLog
{
    /// <summary>
    /// Appends a batch; outcomes are in the order of <paramref name="events"/>. The writer commits it, with whatever
    /// else is waiting, in one transaction together with an outbox row for the commit's delivery. Throws
    /// <see cref="EventLogUnavailableException"/> when nothing could be committed.
    /// </summary>
    Task<AppendResult> AppendAsync(IReadOnlyList<ImpactEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Removes the outbox row once every entity grain has the commit's events.</summary>
    Task CompleteDeliveryAsync(long deliveryId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims outbox rows older than <paramref name="olderThan"/> (their appender died or its delivery failed) for
    /// <paramref name="claimFor"/>, so that one silo at a time redelivers them.
    /// </summary>
    Task<IReadOnlyList<PendingDelivery>> ClaimStaleDeliveriesAsync(TimeSpan olderThan, TimeSpan claimFor, int max, CancellationToken cancellationToken = default);

    /// <summary>Every entity's last sequence, for verification.</summary>
    Task<IReadOnlyDictionary<string, long>> HeadsAsync(CancellationToken cancellationToken = default);

    /// <summary>An entity's events with sequence in (<paramref name="afterSequence"/>, <paramref name="throughSequence"/>], in sequence order.</summary>
    Task<IReadOnlyList<LoggedEvent>> ReadEntityAsync(string entity, long afterSequence, long throughSequence = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>
    /// An entity's events with <paramref name="afterTicks"/> &lt; occurrence ≤ <paramref name="throughTicks"/> and sequence at
    /// most <paramref name="throughSequence"/>, in time order (ties in sequence order), read in pages: the cold path of
    /// as-of queries, which must never hold a long history in memory at once.
    /// </summary>
    IAsyncEnumerable<LoggedEvent> ReadEntityByTimeAsync(string entity, long afterTicks, long throughTicks, long throughSequence, CancellationToken cancellationToken = default);

    /// <summary>An entity's events, newest occurrence first, strictly before <paramref name="before"/> when given.</summary>
    Task<IReadOnlyList<LoggedEvent>> ListEntityEventsAsync(string entity, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default);
}
