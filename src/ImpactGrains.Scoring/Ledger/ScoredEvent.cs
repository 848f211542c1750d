using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Scoring.Ledger;

/// <summary>
/// An event reduced to what scoring needs: when, what type, where, and its raw impact under the current model.
/// </summary>
/// <param name="Sequence">The event's position in its entity's log (1, 2, 3, …).</param>
/// <param name="OccurredAtTicks">UTC ticks of <see cref="ImpactEvent.OccurredAt"/>.</param>
public readonly record struct ScoredEvent(string EventId, long Sequence, EventType Type, long OccurredAtTicks, string Region, double Impact)
{
    public DateTimeOffset OccurredAt => new(OccurredAtTicks, TimeSpan.Zero);
}
