using ImpactGrains.Scoring.Events;
using Orleans.Concurrency;

namespace ImpactGrains.Abstractions;

/// <summary>
/// One silo's writer of the log for the entities it owns, keyed by that silo's address. A request's events cross to
/// each owning silo once, in one call, however many of its entities they touch.
/// </summary>
public interface IEventWriterGrain : IGrainWithStringKey
{
    /// <summary>
    /// Appends the events (all owned by this silo), waits for their grains to apply them as this silo's
    /// <c>Impact:Ingestion</c> settings say, and answers each event's entity sequence, or 0 for a duplicate. Returns once
    /// they are committed.
    /// </summary>
    Task<long[]> AppendAsync(OwnedEvents events);
}

/// <summary>
/// Validated events bound for their owning silo; never changed after it is made, so a call need not copy it. Orleans
/// carries it in one array (the grains' OwnedEventsSurrogate, in the log's encoding).
/// </summary>
[Immutable]
public sealed record OwnedEvents(IReadOnlyList<ImpactEvent> Events);
