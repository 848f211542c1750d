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

/// <summary>
/// The durable event log, the source of truth. Appends are idempotent on the event id and numbered per entity
/// (1, 2, 3, …); an append returns only after the events are committed.
/// </summary>
public interface IEventLog
{
    /// <summary>Appends a batch in one transaction; outcomes are in the order of <paramref name="events"/>.</summary>
    Task<IReadOnlyList<AppendOutcome>> AppendAsync(IReadOnlyList<ImpactEvent> events, CancellationToken cancellationToken = default);

    /// <summary>An entity's events with sequence in (<paramref name="afterSequence"/>, <paramref name="throughSequence"/>], in sequence order.</summary>
    Task<IReadOnlyList<LoggedEvent>> ReadEntityAsync(string entity, long afterSequence, long throughSequence = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>An entity's events, newest occurrence first, strictly before <paramref name="before"/> when given.</summary>
    Task<IReadOnlyList<LoggedEvent>> ListEntityEventsAsync(string entity, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default);
}
