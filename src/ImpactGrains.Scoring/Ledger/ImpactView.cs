using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Scoring.Ledger;

/// <summary>An entity whose direct impact flows into the viewed entity, and at what weight.</summary>
public sealed record InheritedSource(string Entity, double Weight, EventLedger Ledger);

public readonly record struct Peak(double Score, DateTimeOffset? At);

/// <summary>An entity's impact at one instant, as scores in [0, 100].</summary>
public sealed record ImpactBreakdown(
    DateTimeOffset At,
    double Score,
    double Direct,
    double Inherited,
    IReadOnlyDictionary<EventCategory, double> Categories,
    IReadOnlyDictionary<string, double> Regions,
    Peak Peak,
    double Trend24h,
    int EventCount);

/// <param name="Entity">Where the event happened: the viewed entity, or a linked one for inherited impact.</param>
/// <param name="Contribution">The event's share of the score, in score points.</param>
/// <param name="Share">The event's share of the raw impact, in [0, 1].</param>
public sealed record EventContribution(
    string EventId,
    string Entity,
    EventType Type,
    DateTimeOffset OccurredAt,
    EventCategory Category,
    double Contribution,
    double Share);

/// <summary>
/// Computes an entity's scores from its own ledger and the ledgers of the entities linked into it. Direct impact of a
/// linked entity flows in at the link's weight; only direct impact propagates, one hop, so cycles are harmless.
/// </summary>
public sealed class ImpactView
{
    public static readonly TimeSpan TrendWindow = TimeSpan.FromHours(24);

    private readonly DecayTable table;
    private readonly string entity;
    private readonly EventLedger own;
    private readonly IReadOnlyList<InheritedSource> sources;

    public ImpactView(string entity, EventLedger own, IReadOnlyList<InheritedSource> sources)
    {
        this.entity = entity;
        this.own = own;
        this.sources = sources;
        table = own.Table;
    }

    public ImpactBreakdown Evaluate(DateTimeOffset at, Peak? knownPeak = null)
    {
        var atTicks = at.UtcTicks;
        var raw = VectorAt(atTicks);
        var direct = raw.DirectTotal;
        var inherited = raw.InheritedTotal;
        var score = table.ToScore(direct + inherited);
        var categories = EventTypes.Categories.ToDictionary(c => c, c => table.ToScore(raw.Category(c)));
        var regions = raw.Regions.ToDictionary(r => r.Key, r => table.ToScore(r.Value.Sum()), StringComparer.Ordinal);
        var earlier = table.ToScore(VectorAt(atTicks - TrendWindow.Ticks).Total);
        var peak = knownPeak ?? PeakAsOf(atTicks);
        if (peak.Score < score)
        {
            // Only rounding can put the current score above the peak: the score never rises between events.
            peak = peak with { Score = score };
        }

        return new ImpactBreakdown(at, score, table.ToScore(direct), table.ToScore(inherited), categories, regions, peak,
            score - earlier, own.CountAtOrBefore(atTicks));
    }

    /// <summary>The raw impact vector at an instant: only the events up to it count, each decayed to it.</summary>
    public ImpactVector VectorAt(long atTicks)
    {
        var raw = new ImpactVector(atTicks);
        Accumulate(own, 1.0, raw.Direct, raw, atTicks);
        foreach (var source in sources)
        {
            Accumulate(source.Ledger, source.Weight, raw.Inherited, raw, atTicks);
        }

        // A region whose events have all decayed to nothing is not listed.
        foreach (var empty in raw.Regions.Where(r => !(r.Value.Sum() > 0)).Select(r => r.Key).ToList())
        {
            raw.Regions.Remove(empty);
        }

        return raw;
    }

    private void Accumulate(EventLedger ledger, double weight, double[] byType, ImpactVector regions, long atTicks)
    {
        if (ledger.Count == 0)
        {
            return;
        }

        if (atTicks >= ledger.MaxTicks)
        {
            // Every event counts: read the forward-decayed sums, O(types × regions).
            foreach (var type in EventTypes.All)
            {
                byType[(int)type] += weight * ledger.Totals.ValueAt(type, atTicks);
            }

            foreach (var (region, sums) in ledger.RegionTotals)
            {
                var vector = regions.RegionVector(region);
                foreach (var type in EventTypes.All)
                {
                    vector[(int)type] += weight * sums.ValueAt(type, atTicks);
                }
            }

            return;
        }

        // As of an earlier instant: only the events up to it count, each decayed to it.
        var events = ledger.Events;
        var count = ledger.CountAtOrBefore(atTicks);
        for (var i = 0; i < count; i++)
        {
            var e = events[i];
            var value = weight * e.Impact * table.DecayFactor(e.Type, atTicks - e.OccurredAtTicks);
            byType[(int)e.Type] += value;
            if (value > 0)
            {
                regions.RegionVector(e.Region)[(int)e.Type] += value;
            }
        }
    }

    /// <summary>
    /// The highest score reached at or before <paramref name="atTicks"/>, and when. The score only rises at an event
    /// and decays between events, so the peak lies at an event time: a sweep over the merged timeline finds it.
    /// </summary>
    public Peak PeakAsOf(long atTicks)
    {
        var best = new Peak(0, null);
        var running = new double[EventTypes.Count];
        long current = long.MinValue;
        foreach (var item in Timeline())
        {
            if (item.Ticks > atTicks)
            {
                break;
            }

            if (item.Ticks != current)
            {
                if (current != long.MinValue)
                {
                    best = Better(best, running, current);
                    Decay(running, item.Ticks - current);
                }

                current = item.Ticks;
            }

            running[(int)item.Type] += item.WeightedImpact;
        }

        return current == long.MinValue ? best : Better(best, running, current);
    }

    private Peak Better(Peak best, double[] running, long ticks)
    {
        var score = table.ToScore(running.Sum());
        return score > best.Score ? new Peak(score, new DateTimeOffset(ticks, TimeSpan.Zero)) : best;
    }

    private void Decay(double[] running, long elapsedTicks)
    {
        foreach (var type in EventTypes.All)
        {
            running[(int)type] *= table.DecayFactor(type, elapsedTicks);
        }
    }

    /// <summary>Scores at <paramref name="points"/> (ascending), in one sweep over the merged timeline.</summary>
    public IReadOnlyList<double> History(IReadOnlyList<DateTimeOffset> points)
    {
        var result = new double[points.Count];
        var timeline = Timeline();
        var running = new double[EventTypes.Count];
        long current = long.MinValue;
        var next = 0;
        for (var p = 0; p < points.Count; p++)
        {
            var pointTicks = points[p].UtcTicks;
            while (next < timeline.Count && timeline[next].Ticks <= pointTicks)
            {
                var item = timeline[next++];
                if (current != long.MinValue)
                {
                    Decay(running, item.Ticks - current);
                }

                current = item.Ticks;
                running[(int)item.Type] += item.WeightedImpact;
            }

            if (current == long.MinValue)
            {
                continue;
            }

            Decay(running, pointTicks - current);
            current = pointTicks;
            result[p] = table.ToScore(running.Sum());
        }

        return result;
    }

    /// <summary>The events behind the score at <paramref name="at"/>, largest contribution first.</summary>
    public IReadOnlyList<EventContribution> Explain(DateTimeOffset at, int limit)
    {
        var atTicks = at.UtcTicks;
        var top = new PriorityQueue<(ScoredEvent Event, string Entity, double Raw), (double Value, long Ticks, string Id)>(PriorityOrder);
        var total = 0.0;

        void Consider(EventLedger ledger, string source, double weight)
        {
            var count = ledger.CountAtOrBefore(atTicks);
            for (var i = 0; i < count; i++)
            {
                var e = ledger.Events[i];
                var value = weight * e.Impact * table.DecayFactor(e.Type, atTicks - e.OccurredAtTicks);
                total += value;
                if (value <= 0 || limit <= 0)
                {
                    continue;
                }

                // Min-heap on (value, time, id): the smallest is dropped first; ties keep the newer event.
                var priority = (value, e.OccurredAtTicks, e.EventId);
                if (top.Count < limit)
                {
                    top.Enqueue((e, source, value), priority);
                }
                else if (top.TryPeek(out _, out var smallest) && Compare(priority, smallest) > 0)
                {
                    top.EnqueueDequeue((e, source, value), priority);
                }
            }
        }

        Consider(own, entity, 1.0);
        foreach (var source in sources)
        {
            Consider(source.Ledger, source.Entity, source.Weight);
        }

        if (total <= 0)
        {
            return [];
        }

        var score = table.ToScore(total);
        var items = new List<(ScoredEvent Event, string Entity, double Raw)>(top.Count);
        while (top.TryDequeue(out var item, out _))
        {
            items.Add(item);
        }

        items.Reverse();
        var shares = items.Select(i => Math.Min(1, i.Raw / total)).ToArray();
        var shareSum = shares.Sum();
        if (shareSum > 1)
        {
            // Rounding can push the sum of all shares a hair above 1; scale back so they never claim more than the whole.
            for (var i = 0; i < shares.Length; i++) shares[i] /= shareSum * (1 + 1e-15);
        }

        return items.Select((item, i) => new EventContribution(
            item.Event.EventId,
            item.Entity,
            item.Event.Type,
            item.Event.OccurredAt,
            EventTypes.CategoryOf(item.Event.Type),
            shares[i] * score,
            shares[i])).ToList();
    }

    private static readonly IComparer<(double Value, long Ticks, string Id)> PriorityOrder =
        Comparer<(double Value, long Ticks, string Id)>.Create(Compare);

    private static int Compare((double Value, long Ticks, string Id) a, (double Value, long Ticks, string Id) b)
    {
        var c = a.Value.CompareTo(b.Value);
        if (c != 0) return c;
        c = a.Ticks.CompareTo(b.Ticks);
        return c != 0 ? c : string.CompareOrdinal(b.Id, a.Id);
    }

    private readonly record struct TimelineItem(long Ticks, EventType Type, double WeightedImpact);

    private List<TimelineItem>? timeline;

    /// <summary>Every event of the entity and its sources, weighted and sorted by time; built once per view.</summary>
    private List<TimelineItem> Timeline()
    {
        if (timeline is not null)
        {
            return timeline;
        }

        var items = new List<TimelineItem>(own.Count + sources.Sum(s => s.Ledger.Count));
        items.AddRange(own.Events.Select(e => new TimelineItem(e.OccurredAtTicks, e.Type, e.Impact)));
        foreach (var source in sources)
        {
            items.AddRange(source.Ledger.Events.Select(e => new TimelineItem(e.OccurredAtTicks, e.Type, source.Weight * e.Impact)));
        }

        if (sources.Count > 0)
        {
            items.Sort((a, b) => a.Ticks.CompareTo(b.Ticks));
        }

        return timeline = items;
    }
}
