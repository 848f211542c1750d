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
    // A queue per type, made at the type's first contribution: most entities see a few types, and an empty queue for
    // each of the others in each of an entity's two rankings was about 900 bytes of every active grain.
    private readonly PriorityQueue<Contribution, (double Key, long Ticks, string Id)>?[] byType = new PriorityQueue<Contribution, (double Key, long Ticks, string Id)>?[EventTypes.Count];

    public ContributionRanking(DecayTable table, int capacity)
    {
        this.table = table;
        Capacity = capacity;
    }

    private IEnumerable<PriorityQueue<Contribution, (double Key, long Ticks, string Id)>> Queues => byType.OfType<PriorityQueue<Contribution, (double Key, long Ticks, string Id)>>();

    public int Capacity { get; }

    /// <summary>Changes with every change of the members: what an encoding of them may be cached by.</summary>
    public long Version { get; private set; }

    public int Count => Queues.Sum(q => q.Count);

    public IEnumerable<Contribution> Members => Queues.SelectMany(q => q.UnorderedItems.Select(i => i.Element));

    /// <summary>Keeps the contribution if it is among its type's largest; contributions worth nothing are never listed.</summary>
    public void Add(in Contribution c)
    {
        if (!(c.Value > 0) || Capacity == 0)
        {
            return;
        }

        var queue = byType[(int)c.Type] ??= new PriorityQueue<Contribution, (double Key, long Ticks, string Id)>(Smallest);
        var priority = (Math.Log2(c.Value) + c.Ticks / table.HalfLifeTicks(c.Type), c.Ticks, c.EventId);
        if (queue.Count < Capacity)
        {
            queue.Enqueue(c, priority);
            Version++;
        }
        else if (queue.TryPeek(out _, out var smallest) && Smallest.Compare(priority, smallest) > 0)
        {
            queue.DequeueEnqueue(c, priority);
            Version++;
        }
    }

    /// <summary>
    /// How far below a type's k-th largest key a member still counts as a candidate: the keys and the decayed values
    /// are computed in different ways (a logarithm against a power), so two members a rounding error apart may swap
    /// places between the two orders. Rounding is about 1e-10 here; this is 1e-6 (a relative 7e-7 in value).
    /// </summary>
    private const double KeyTolerance = 1e-6;

    /// <summary>
    /// The members that can be among the <paramref name="k"/> largest at any instant at or after every member: of each
    /// type, those whose key reaches the type's k-th largest (within <see cref="KeyTolerance"/>). The order by key is the
    /// order by value at every such instant, so the k largest overall are among them; an explanation then decays only
    /// these (at most about k per type) rather than every member (up to <see cref="Capacity"/> per type).
    /// </summary>
    public List<Contribution> TopCandidates(int k)
    {
        var candidates = new List<Contribution>(Math.Min(Count, k * byType.Length));
        if (k <= 0)
        {
            return candidates;
        }

        // The k largest keys seen of a type, smallest first: its head is the type's k-th largest once all are seen.
        var largest = new PriorityQueue<double, double>(k);
        foreach (var queue in Queues)
        {
            if (queue.Count <= k)
            {
                foreach (var (member, _) in queue.UnorderedItems)
                {
                    candidates.Add(member);
                }

                continue;
            }

            largest.Clear();
            foreach (var (_, priority) in queue.UnorderedItems)
            {
                if (largest.Count < k)
                {
                    largest.Enqueue(priority.Key, priority.Key);
                }
                else if (priority.Key > largest.Peek())
                {
                    largest.DequeueEnqueue(priority.Key, priority.Key);
                }
            }

            var threshold = largest.Peek() - KeyTolerance;
            foreach (var (member, priority) in queue.UnorderedItems)
            {
                if (priority.Key >= threshold)
                {
                    candidates.Add(member);
                }
            }
        }

        return candidates;
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
