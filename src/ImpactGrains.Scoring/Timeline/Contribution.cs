using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// An event as it counts towards one entity: one of its own events at weight 1, or an event of an entity linked into it
/// at the link's weight (inherited impact).
/// </summary>
/// <param name="Source">The entity where the event happened: the entity itself, or the linked one.</param>
/// <param name="Sequence">The event's sequence in its source's log.</param>
/// <param name="Value">The raw impact as it counts here: the event's impact times the weight.</param>
public readonly record struct Contribution(string EventId, string Source, long Sequence, EventType Type, long Ticks, string Region, double Value, bool Own)
{
    public DateTimeOffset OccurredAt => new(Ticks, TimeSpan.Zero);

    public static Contribution OwnEvent(in ScoredEvent e, string entity) =>
        new(e.EventId, entity, e.Sequence, e.Type, e.OccurredAtTicks, e.Region, e.Impact, true);

    public static Contribution InheritedEvent(in ScoredEvent e, string source, double weight) =>
        new(e.EventId, source, e.Sequence, e.Type, e.OccurredAtTicks, e.Region, weight * e.Impact, false);

    /// <summary>Time order, and a fixed order among contributions of the same instant (so every replay sums alike).</summary>
    public static readonly IComparer<Contribution> TimeOrder = Comparer<Contribution>.Create((a, b) =>
    {
        var c = a.Ticks.CompareTo(b.Ticks);
        if (c != 0) return c;
        c = string.CompareOrdinal(a.Source, b.Source);
        return c != 0 ? c : a.Sequence.CompareTo(b.Sequence);
    });
}

/// <summary>
/// The events behind an entity's impact in time order, from wherever they are kept beyond memory (the event log and the
/// logs of linked entities): the cold path of as-of queries and of recomputations. Implementations stream; nothing
/// here is held whole in memory.
/// </summary>
public interface IContributionHistory
{
    /// <summary>Contributions with <paramref name="afterTicks"/> &lt; Ticks ≤ <paramref name="throughTicks"/>, in <see cref="Contribution.TimeOrder"/>.</summary>
    IAsyncEnumerable<Contribution> ReadAsync(long afterTicks, long throughTicks, CancellationToken cancellationToken = default);
}
