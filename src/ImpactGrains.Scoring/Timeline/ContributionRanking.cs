using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// The largest contributions of each event type, at most <see cref="Capacity"/> per type: enough to explain any instant
/// at or after every one of them. Within a type every contribution decays by the same factor, so their order by value
/// is the same at every instant: the order of log2(value) + ticks / half-life. The top k of a type never has to give a
/// member back, and the top k overall at any instant lies within the union of the types' top k.
/// </summary>
public sealed class ContributionRanking
{
    private readonly DecayTable table;
    private readonly PriorityQueue<Contribution, (double Key, long Ticks, string Id)>[] byType;

    public ContributionRanking(DecayTable table, int capacity)
    {
        this.table = table;
        Capacity = capacity;
        byType = Enumerable.Range(0, EventTypes.Count)
            .Select(_ => new PriorityQueue<Contribution, (double Key, long Ticks, string Id)>(Smallest))
            .ToArray();
    }

    public int Capacity { get; }

    public int Count => byType.Sum(q => q.Count);

    public IEnumerable<Contribution> Members => byType.SelectMany(q => q.UnorderedItems.Select(i => i.Element));

    /// <summary>Keeps the contribution if it is among its type's largest; contributions worth nothing are never listed.</summary>
    public void Add(in Contribution c)
    {
        if (!(c.Value > 0) || Capacity == 0)
        {
            return;
        }

        var queue = byType[(int)c.Type];
        var priority = (Math.Log2(c.Value) + c.Ticks / table.HalfLifeTicks(c.Type), c.Ticks, c.EventId);
        if (queue.Count < Capacity)
        {
            queue.Enqueue(c, priority);
        }
        else if (queue.TryPeek(out _, out var smallest) && Smallest.Compare(priority, smallest) > 0)
        {
            queue.DequeueEnqueue(c, priority);
        }
    }

    /// <summary>
    /// The order of <see cref="ImpactView"/>'s explanation, smallest first: a lower value, then an older event, then a
    /// later id is smaller.
    /// </summary>
    private static readonly IComparer<(double Key, long Ticks, string Id)> Smallest = Comparer<(double Key, long Ticks, string Id)>.Create((a, b) =>
    {
        var c = a.Key.CompareTo(b.Key);
        if (c != 0) return c;
        c = a.Ticks.CompareTo(b.Ticks);
        return c != 0 ? c : string.CompareOrdinal(b.Id, a.Id);
    });
}
