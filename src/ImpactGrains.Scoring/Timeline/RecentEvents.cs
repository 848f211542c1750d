using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// An entity's most recent own events by sequence, at most <see cref="Capacity"/>: what the entities linked from it
/// pull after each change. One that has fallen further behind reads the log instead.
/// </summary>
public sealed class RecentEvents(int capacity)
{
    private readonly Queue<ScoredEvent> events = new();

    public int Capacity { get; } = capacity;

    public void Add(in ScoredEvent e)
    {
        events.Enqueue(e);
        if (events.Count > Capacity)
        {
            events.Dequeue();
        }
    }

    public void Clear() => events.Clear();

    /// <summary>The events after <paramref name="afterSequence"/> when every one of them is still here; otherwise false.</summary>
    public bool TryGetAfter(long afterSequence, long appliedSequence, out List<ScoredEvent> after)
    {
        after = [];
        if (afterSequence >= appliedSequence)
        {
            return true;
        }

        if (events.Count == 0 || events.Peek().Sequence > afterSequence + 1)
        {
            return false;
        }

        after.AddRange(events.Where(e => e.Sequence > afterSequence));
        return true;
    }
}
