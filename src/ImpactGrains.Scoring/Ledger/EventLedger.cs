namespace ImpactGrains.Scoring.Ledger;

/// <summary>
/// One entity's scored events, kept sorted by time, with forward-decayed totals overall and per region.
/// Adding an event that is already present (same id) changes nothing.
/// </summary>
public sealed class EventLedger
{
    private static readonly Comparison<ScoredEvent> ByTime = (a, b) =>
    {
        var c = a.OccurredAtTicks.CompareTo(b.OccurredAtTicks);
        return c != 0 ? c : string.CompareOrdinal(a.EventId, b.EventId);
    };

    private static readonly IComparer<ScoredEvent> ByTimeComparer = Comparer<ScoredEvent>.Create(ByTime);

    private readonly DecayTable table;
    private readonly List<ScoredEvent> events = [];
    private readonly HashSet<string> ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ForwardDecaySums> regionTotals = new(StringComparer.Ordinal);

    public EventLedger(DecayTable table)
    {
        this.table = table;
        Totals = new ForwardDecaySums(table);
    }

    public DecayTable Table => table;

    /// <summary>The events, oldest first (ties by id).</summary>
    public IReadOnlyList<ScoredEvent> Events => events;

    public int Count => events.Count;

    /// <summary>The latest occurrence time; the forward-decayed totals are valid at or after it.</summary>
    public long MaxTicks { get; private set; } = long.MinValue;

    public ForwardDecaySums Totals { get; }

    public IReadOnlyDictionary<string, ForwardDecaySums> RegionTotals => regionTotals;

    /// <summary>Bumped on every change, so that derived caches know when to recompute.</summary>
    public long Version { get; private set; }

    public bool Contains(string eventId) => ids.Contains(eventId);

    public bool TryAdd(ScoredEvent e)
    {
        if (!ids.Add(e.EventId))
        {
            return false;
        }

        if (events.Count == 0 || ByTime(events[^1], e) <= 0)
        {
            events.Add(e); // the common case: events arrive roughly in time order
        }
        else
        {
            var index = events.BinarySearch(e, ByTimeComparer);
            events.Insert(index < 0 ? ~index : index, e);
        }

        Totals.Add(e.Type, e.OccurredAtTicks, e.Impact);
        if (!regionTotals.TryGetValue(e.Region, out var region))
        {
            region = new ForwardDecaySums(table);
            regionTotals.Add(e.Region, region);
        }

        region.Add(e.Type, e.OccurredAtTicks, e.Impact);
        MaxTicks = Math.Max(MaxTicks, e.OccurredAtTicks);
        Version++;
        return true;
    }

    /// <summary>How many events occurred at or before <paramref name="ticks"/>.</summary>
    public int CountAtOrBefore(long ticks)
    {
        if (events.Count == 0 || ticks >= MaxTicks)
        {
            return ticks >= MaxTicks ? events.Count : 0;
        }

        int lo = 0, hi = events.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (events[mid].OccurredAtTicks <= ticks) lo = mid + 1;
            else hi = mid;
        }

        return lo;
    }
}
