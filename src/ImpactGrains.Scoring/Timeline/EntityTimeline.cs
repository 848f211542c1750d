using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Timeline;

public sealed class TimelineOptions
{
    /// <summary>Contributions kept one by one (the recent past); beyond this, the older ones are sealed into intervals.</summary>
    public int TailCapacity { get; set; } = 4096;

    /// <summary>
    /// Contributions this close to the latest stay in the tail whatever its size, so that the usual disorder of a live
    /// feed (clients' clocks, concurrent requests) never takes the late-event path.
    /// </summary>
    public TimeSpan LateAllowance { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Contributions per sealed interval: an as-of query reads at most about this many from the log.</summary>
    public int IntervalSize { get; set; } = 64;

    /// <summary>Contributions kept per event type for explanations: the largest explain limit.</summary>
    public int ExplainCapacity { get; set; } = 1000;
}

/// <summary>
/// One entity's impact over time, exact at any instant, in memory bounded by what still matters rather than by
/// everything that happened (docs/scoring.md#state-model):
/// <list type="bullet">
/// <item>the head: the exact state at the latest contribution (raw impact by type, direct and inherited, and by region;
/// own events; the all-time peak), which answers every query at or after it;</item>
/// <item>the tail: the recent contributions one by one, which answer instants among them;</item>
/// <item>sealed intervals of about <see cref="TimelineOptions.IntervalSize"/> contributions each (the checkpoints),
/// which answer older instants with at most one interval read back from the <see cref="IContributionHistory"/>;</item>
/// <item>the largest contributions per event type (<see cref="ContributionRanking"/>), which explain the score.</item>
/// </list>
/// A late contribution (older than the tail) updates the one interval it falls in; the peaks after it are then
/// recomputed from the history the first time a query needs them.
/// </summary>
public sealed class EntityTimeline
{
    private readonly DecayTable table;
    private readonly TimelineOptions options;
    private readonly RegionTable regions = new();
    private readonly List<Contribution> tail = [];
    private readonly List<TimelineInterval> intervals = [];
    private readonly SortedSet<int> dirtyIntervals = [];
    private ImpactState head = new();
    private bool headPeakValid = true;

    // Intervals before these indexes have a valid running state (Cumulative) and a valid peak.
    private int cumulativeValid;
    private int peakValid;

    public EntityTimeline(string entity, DecayTable table, TimelineOptions options)
    {
        Entity = entity;
        this.table = table;
        this.options = options;
        AllTop = new ContributionRanking(table, options.ExplainCapacity);
        SealedTop = new ContributionRanking(table, options.ExplainCapacity);
    }

    public string Entity { get; }

    /// <summary>A timeline as <see cref="TimelineCodec"/> stored it.</summary>
    internal static EntityTimeline Restore(
        string entity, DecayTable table, TimelineOptions options, IReadOnlyList<string> regionNames, long minTicks, int count,
        ImpactState head, bool headPeakValid, List<TimelineInterval> intervals, int peakValid,
        IReadOnlyList<Contribution> allTop, IReadOnlyList<Contribution> sealedTop)
    {
        var timeline = new EntityTimeline(entity, table, options)
        {
            head = head,
            headPeakValid = headPeakValid,
            peakValid = Math.Min(peakValid, intervals.Count),
            MinTicks = minTicks,
            Count = count,
        };
        foreach (var region in regionNames)
        {
            timeline.regions.IndexOf(region);
        }

        timeline.intervals.AddRange(intervals);
        foreach (var c in allTop)
        {
            timeline.AllTop.Add(c);
        }

        foreach (var c in sealedTop)
        {
            timeline.SealedTop.Add(c);
        }

        return timeline;
    }

    public DecayTable Table => table;

    public RegionTable Regions => regions;

    /// <summary>The latest contribution's instant; <see cref="long.MinValue"/> when there is none.</summary>
    public long MaxTicks => head.At;

    /// <summary>The earliest contribution's instant; <see cref="long.MaxValue"/> when there is none.</summary>
    public long MinTicks { get; private set; } = long.MaxValue;

    /// <summary>Every contribution at or before this instant is sealed into an interval.</summary>
    public long SealedThrough => intervals.Count == 0 ? long.MinValue : intervals[^1].EndTicks;

    public int OwnCount => head.OwnCount;

    public int Count { get; private set; }

    public IReadOnlyList<Contribution> Tail => tail;

    public IReadOnlyList<TimelineInterval> Intervals => intervals;

    /// <summary>The largest contributions of each type, of every contribution.</summary>
    public ContributionRanking AllTop { get; private set; }

    /// <summary>The same, of the sealed contributions only: explanations of instants within the tail.</summary>
    public ContributionRanking SealedTop { get; private set; }

    /// <summary>The head state (values at <see cref="MaxTicks"/>); its peak is valid when <see cref="HeadPeakValid"/>.</summary>
    public ImpactState Head => head;

    public bool HeadPeakValid => headPeakValid;

    /// <summary>How many leading intervals hold a valid peak.</summary>
    public int PeakValidIntervals => peakValid;

    public void Add(in Contribution c)
    {
        var region = regions.IndexOf(c.Region);
        Count++;
        MinTicks = Math.Min(MinTicks, c.Ticks);
        AllTop.Add(c);
        if (c.Ticks >= head.At)
        {
            // The usual case: at or after everything known; the head moves to it and its peak stays exact.
            head.AdvanceTo(c.Ticks, table);
            head.Add(c, region, table, trackPeak: headPeakValid);
        }
        else
        {
            // Earlier than the latest: the head's values take it decayed; its peak must be found again.
            AddDecayed(head, c, region);
            headPeakValid = false;
        }

        if (c.Ticks > SealedThrough)
        {
            InsertIntoTail(c);
            Seal();
        }
        else
        {
            AddLate(c, region);
        }
    }

    private void AddDecayed(ImpactState state, in Contribution c, int region) => state.AddDecayed(c, region, table);

    private void InsertIntoTail(in Contribution c)
    {
        if (tail.Count == 0 || Contribution.TimeOrder.Compare(tail[^1], c) <= 0)
        {
            tail.Add(c);
            return;
        }

        var index = tail.BinarySearch(c, Contribution.TimeOrder);
        tail.Insert(index < 0 ? ~index : index, c);
    }

    /// <summary>A contribution at or before <see cref="SealedThrough"/>: it joins the interval it falls in.</summary>
    private void AddLate(in Contribution c, int region)
    {
        var k = IntervalAt(c.Ticks);
        var interval = intervals[k];
        var delta = interval.Delta;
        var one = new double[ImpactValues.Length(region + 1)];
        ImpactValues.Add(ref one, c, region);
        Span<double> factors = stackalloc double[ImpactValues.Types];
        ImpactValues.Factors(table, interval.EndTicks - c.Ticks, factors);
        ImpactValues.AddDecayed(ref delta, one, factors);
        interval.Delta = delta;
        interval.MinTicks = Math.Min(interval.MinTicks, c.Ticks);
        interval.Count++;
        interval.OwnCount += c.Own ? 1 : 0;
        SealedTop.Add(c);
        if (intervalCache?.Index == k)
        {
            intervalCache = null;
        }

        cumulativeValid = Math.Min(cumulativeValid, k);
        peakValid = Math.Min(peakValid, k);
        for (var j = k; j < intervals.Count; j++)
        {
            intervals[j].Cumulative = null;
        }

        dirtyIntervals.Add(k);
    }

    /// <summary>The first interval whose end is at or after <paramref name="ticks"/>; <see cref="Intervals"/>.Count when none is.</summary>
    private int IntervalAt(long ticks)
    {
        int lo = 0, hi = intervals.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (intervals[mid].EndTicks < ticks) lo = mid + 1;
            else hi = mid;
        }

        return lo;
    }

    /// <summary>Seals the older part of a full tail into intervals, keeping whatever is within the late allowance.</summary>
    private void Seal()
    {
        if (tail.Count <= options.TailCapacity)
        {
            return;
        }

        var cutoff = head.At - options.LateAllowance.Ticks;
        var n = 0;
        var most = tail.Count - options.TailCapacity / 2;
        while (n < most && tail[n].Ticks <= cutoff)
        {
            n++;
        }

        // Whole instants only: an interval holds every contribution at its end.
        while (n > 0 && n < tail.Count && tail[n].Ticks == tail[n - 1].Ticks)
        {
            n--;
        }

        if (n == 0)
        {
            return;
        }

        var running = intervals.Count == 0 ? new ImpactState() : CumulativeAt(intervals.Count - 1).Clone();
        var trackPeak = peakValid == intervals.Count;
        var allCumulative = cumulativeValid == intervals.Count;
        var delta = new ImpactState();
        var minTicks = long.MaxValue;
        var inInterval = 0;
        for (var i = 0; i < n; i++)
        {
            var c = tail[i];
            var region = regions.IndexOf(c.Region);
            running.AdvanceTo(c.Ticks, table);
            running.Add(c, region, table, trackPeak);
            delta.AdvanceTo(c.Ticks, table);
            delta.Add(c, region, table, trackPeak: false);
            minTicks = Math.Min(minTicks, c.Ticks);
            inInterval++;
            SealedTop.Add(c);
            if (i == n - 1 || (inInterval >= options.IntervalSize && tail[i + 1].Ticks != c.Ticks))
            {
                if (intervals.Count > 0 && !IsCheckpoint(intervals.Count - 1))
                {
                    intervals[^1].Cumulative = null; // no longer the last: its state is recomputed from a checkpoint
                }

                intervals.Add(new TimelineInterval(c.Ticks, minTicks, inInterval, delta.OwnCount, delta.Values, running.PeakScore, running.PeakTicks)
                {
                    Cumulative = running.Clone(),
                });
                dirtyIntervals.Add(intervals.Count - 1);
                delta = new ImpactState();
                minTicks = long.MaxValue;
                inInterval = 0;
            }
        }

        if (allCumulative)
        {
            cumulativeValid = intervals.Count;
        }

        if (trackPeak)
        {
            peakValid = intervals.Count;
        }

        tail.RemoveRange(0, n);
    }

    /// <summary>The running state at interval <paramref name="k"/>'s end (its peak valid only when k &lt; <see cref="PeakValidIntervals"/>).</summary>
    private ImpactState CumulativeAt(int k)
    {
        if (intervals[k].Cumulative is { } known)
        {
            return known;
        }

        var start = Math.Min(cumulativeValid, k);
        while (start > 0 && intervals[start - 1].Cumulative is null)
        {
            start--;
        }

        var running = start == 0 ? new ImpactState() : intervals[start - 1].Cumulative!.Clone();
        for (var j = start; j <= k; j++)
        {
            var interval = intervals[j];
            running.AdvanceTo(interval.EndTicks, table);
            running.AddDecayed(interval.Delta, interval.EndTicks, interval.OwnCount, table);
            if (j < peakValid)
            {
                running.SetPeak(interval.PeakScore, interval.PeakTicks);
            }

            if (IsCheckpoint(j) || j == intervals.Count - 1)
            {
                interval.Cumulative = running.Clone();
            }
        }

        cumulativeValid = Math.Max(cumulativeValid, k + 1);
        return intervals[k].Cumulative ?? running;
    }

    /// <summary>
    /// The running state is kept only at every <see cref="CheckpointEvery"/>th interval (and the last): the others are
    /// recomputed from the one before them, at most that many small additions, so that the sealed past costs its
    /// deltas rather than a full state per interval (docs/scoring.md#state-model).
    /// </summary>
    private const int CheckpointEvery = 4;

    private static bool IsCheckpoint(int k) => k % CheckpointEvery == CheckpointEvery - 1;

    /// <summary>
    /// Reads the tail of a restored timeline back from the history: every contribution after the sealed intervals. The
    /// head, the counts and the rankings already include them.
    /// </summary>
    public async ValueTask RestoreTailAsync(IContributionHistory history, CancellationToken cancellationToken = default)
    {
        tail.Clear();
        if (Count > 0)
        {
            await foreach (var c in history.ReadAsync(SealedThrough, long.MaxValue, cancellationToken))
            {
                regions.IndexOf(c.Region);
                tail.Add(c);
            }
        }
    }

    /// <summary>Makes sure intervals 0…<paramref name="k"/> hold valid peaks, recomputing them from the history if a late event made them stale.</summary>
    private async ValueTask<ImpactState> CumulativeWithPeakAsync(int k, IContributionHistory history, CancellationToken cancellationToken)
    {
        if (k < peakValid)
        {
            return CumulativeAt(k);
        }

        // Recompute every stale peak at once, through the last interval: late events are rare, their cost is one pass.
        var last = intervals.Count - 1;
        var running = peakValid == 0 ? new ImpactState() : CumulativeAt(peakValid - 1).Clone();
        var j = peakValid;
        var from = running.At;
        await foreach (var c in history.ReadAsync(from, intervals[last].EndTicks, cancellationToken))
        {
            while (c.Ticks > intervals[j].EndTicks)
            {
                SetIntervalPeak(j++, running);
            }

            running.AdvanceTo(c.Ticks, table);
            running.Add(c, regions.IndexOf(c.Region), table, trackPeak: true);
        }

        while (j <= last)
        {
            SetIntervalPeak(j++, running);
        }

        peakValid = intervals.Count;
        return CumulativeAt(k);
    }

    private void SetIntervalPeak(int j, ImpactState running)
    {
        var interval = intervals[j];
        interval.PeakScore = running.PeakScore;
        interval.PeakTicks = running.PeakTicks;
        interval.Cumulative?.SetPeak(running.PeakScore, running.PeakTicks);
        dirtyIntervals.Add(j);
    }

    /// <summary>The all-time peak, found again if a late event made it stale.</summary>
    private async ValueTask EnsureHeadPeakAsync(IContributionHistory history, CancellationToken cancellationToken)
    {
        if (headPeakValid)
        {
            return;
        }

        var running = intervals.Count == 0 ? new ImpactState() : (await CumulativeWithPeakAsync(intervals.Count - 1, history, cancellationToken)).Clone();
        foreach (var c in tail)
        {
            running.AdvanceTo(c.Ticks, table);
            running.Add(c, regions.IndexOf(c.Region), table, trackPeak: true);
        }

        head.SetPeak(running.PeakScore, running.PeakTicks);
        headPeakValid = true;
    }

    /// <summary>
    /// The exact state at <paramref name="atTicks"/>: raw impact of every contribution at or before it decayed to it, the
    /// own events counted, and (when <paramref name="withPeak"/>) the peak at or before it. From memory at or after
    /// the oldest contribution of the tail; older instants read one interval back from the history.
    /// </summary>
    public async ValueTask<ImpactState> StateAtAsync(long atTicks, bool withPeak, IContributionHistory history, CancellationToken cancellationToken = default)
    {
        if (Count == 0 || atTicks < MinTicks)
        {
            var empty = new ImpactState();
            empty.AdvanceTo(atTicks, table);
            return empty;
        }

        if (atTicks >= MaxTicks)
        {
            if (withPeak)
            {
                await EnsureHeadPeakAsync(history, cancellationToken);
            }

            var now = head.Clone();
            now.AdvanceTo(atTicks, table);
            return now;
        }

        if (atTicks >= SealedThrough)
        {
            var running = intervals.Count == 0 ? new ImpactState()
                : (withPeak ? await CumulativeWithPeakAsync(intervals.Count - 1, history, cancellationToken) : CumulativeAt(intervals.Count - 1)).Clone();
            foreach (var c in tail)
            {
                if (c.Ticks > atTicks)
                {
                    break;
                }

                running.AdvanceTo(c.Ticks, table);
                running.Add(c, regions.IndexOf(c.Region), table, withPeak);
            }

            running.AdvanceTo(atTicks, table);
            return running;
        }

        var k = IntervalAt(atTicks);
        var state = k == 0 ? new ImpactState()
            : (withPeak ? await CumulativeWithPeakAsync(k - 1, history, cancellationToken) : CumulativeAt(k - 1)).Clone();
        if (intervals[k].MinTicks <= atTicks)
        {
            foreach (var c in await IntervalContributionsAsync(k, history, cancellationToken))
            {
                if (c.Ticks > atTicks)
                {
                    break;
                }

                state.AdvanceTo(c.Ticks, table);
                state.Add(c, regions.IndexOf(c.Region), table, withPeak);
            }
        }

        state.AdvanceTo(atTicks, table);
        return state;
    }

    // The last sealed interval read back from the history. The 24-hour trend asks for an instant that moves slowly
    // through the past, so consecutive queries mostly fall in the same interval: one read serves them all.
    private (int Index, List<Contribution> Items)? intervalCache;

    private async ValueTask<List<Contribution>> IntervalContributionsAsync(int k, IContributionHistory history, CancellationToken cancellationToken,
        long throughTicks = long.MaxValue)
    {
        if (intervalCache is { } cached && cached.Index == k)
        {
            return cached.Items;
        }

        // Only what the caller needs (a history's points in this interval may stop short of its end); only a whole
        // interval is worth keeping for the next query.
        var whole = throughTicks >= intervals[k].EndTicks;
        var items = new List<Contribution>(intervals[k].Count);
        await foreach (var c in history.ReadAsync(k == 0 ? long.MinValue : intervals[k - 1].EndTicks, whole ? intervals[k].EndTicks : throughTicks, cancellationToken))
        {
            items.Add(c);
        }

        if (whole)
        {
            intervalCache = (k, items);
        }

        return items;
    }

    /// <summary>The entity's impact at an instant, as <see cref="ImpactView.Evaluate"/> defines it.</summary>
    public async ValueTask<ImpactBreakdown> EvaluateAsync(DateTimeOffset at, IContributionHistory history, CancellationToken cancellationToken = default)
    {
        var atTicks = at.UtcTicks;
        var state = await StateAtAsync(atTicks, withPeak: true, history, cancellationToken);
        var earlier = await StateAtAsync(atTicks - ImpactView.TrendWindow.Ticks, withPeak: false, history, cancellationToken);
        var vector = ImpactValues.ToVector(state.Values, atTicks, regions);
        var direct = vector.DirectTotal;
        var inherited = vector.InheritedTotal;
        var score = table.ToScore(direct + inherited);
        var peak = new Peak(state.PeakScore, state.PeakTicks == long.MinValue ? null : new DateTimeOffset(state.PeakTicks, TimeSpan.Zero));
        if (peak.Score < score)
        {
            // Only rounding can put the current score above the peak: the score never rises between events.
            peak = peak with { Score = score };
        }

        return new ImpactBreakdown(
            at,
            score,
            table.ToScore(direct),
            table.ToScore(inherited),
            EventTypes.Categories.ToDictionary(c => c, c => table.ToScore(vector.Category(c))),
            vector.Regions.ToDictionary(r => r.Key, r => table.ToScore(r.Value.Sum()), StringComparer.Ordinal),
            peak,
            score - table.ToScore(earlier.Total),
            state.OwnCount);
    }

    /// <summary>The raw impact vector now, for the entity's leaderboard standing.</summary>
    public ImpactVector VectorAt(long atTicks)
    {
        // What advancing a copy of the head would give (ImpactState.AdvanceTo), without the copy.
        var at = Math.Max(atTicks, head.At);
        if (head.At == long.MinValue || at == head.At)
        {
            return ImpactValues.ToVector(head.Values, at, regions);
        }

        Span<double> factors = stackalloc double[ImpactValues.Types];
        ImpactValues.Factors(table, at - head.At, factors);
        return ImpactValues.ToVector(head.Values, factors, at, regions);
    }

    /// <summary>The contributions behind the score at <paramref name="at"/>, largest first, as <see cref="ImpactView.Explain"/> lists them.</summary>
    public async ValueTask<IReadOnlyList<EventContribution>> ExplainAsync(DateTimeOffset at, int limit, IContributionHistory history, CancellationToken cancellationToken = default)
    {
        var atTicks = at.UtcTicks;
        var total = (await StateAtAsync(atTicks, withPeak: false, history, cancellationToken)).Total;
        if (!(total > 0) || limit <= 0)
        {
            return [];
        }

        var top = new PriorityQueue<Contribution, (double Value, long Ticks, string Id)>(ExplainOrder);
        void Consider(in Contribution c)
        {
            var value = c.Value * table.DecayFactor(c.Type, atTicks - c.Ticks);
            if (!(value > 0))
            {
                return;
            }

            var priority = (value, c.Ticks, c.EventId);
            if (top.Count < limit)
            {
                top.Enqueue(c, priority);
            }
            else if (top.TryPeek(out _, out var smallest) && ExplainOrder.Compare(priority, smallest) > 0)
            {
                top.DequeueEnqueue(c, priority);
            }
        }

        if (atTicks >= MaxTicks && limit <= AllTop.Capacity)
        {
            foreach (var c in AllTop.Members)
            {
                Consider(c);
            }
        }
        else if (atTicks >= SealedThrough && limit <= SealedTop.Capacity)
        {
            foreach (var c in SealedTop.Members)
            {
                Consider(c);
            }

            foreach (var c in tail)
            {
                if (c.Ticks > atTicks)
                {
                    break;
                }

                Consider(c);
            }
        }
        else
        {
            await foreach (var c in history.ReadAsync(long.MinValue, Math.Min(atTicks, MaxTicks), cancellationToken))
            {
                Consider(c);
            }
        }

        var score = table.ToScore(total);
        var items = new List<(Contribution C, double Value)>(top.Count);
        while (top.TryDequeue(out var c, out var priority))
        {
            items.Add((c, priority.Value));
        }

        items.Reverse();
        var shares = items.Select(i => Math.Min(1, i.Value / total)).ToArray();
        var shareSum = shares.Sum();
        if (shareSum > 1)
        {
            // Rounding can push the sum of all shares a hair above 1; scale back so they never claim more than the whole.
            for (var i = 0; i < shares.Length; i++) shares[i] /= shareSum * (1 + 1e-15);
        }

        return items.Select((item, i) => new EventContribution(
            item.C.EventId,
            item.C.Source,
            item.C.Type,
            item.C.OccurredAt,
            EventTypes.CategoryOf(item.C.Type),
            shares[i] * score,
            shares[i])).ToList();
    }

    /// <summary>Smallest first: a lower value, then an older event, then a later id (so ties keep the newer event, then the lower id).</summary>
    private static readonly IComparer<(double Value, long Ticks, string Id)> ExplainOrder = Comparer<(double Value, long Ticks, string Id)>.Create((a, b) =>
    {
        var c = a.Value.CompareTo(b.Value);
        if (c != 0) return c;
        c = a.Ticks.CompareTo(b.Ticks);
        return c != 0 ? c : string.CompareOrdinal(b.Id, a.Id);
    });

    /// <summary>Scores at <paramref name="points"/> (ascending), reading each sealed interval that a point falls in at most once.</summary>
    public async ValueTask<IReadOnlyList<double>> HistoryAsync(IReadOnlyList<DateTimeOffset> points, IContributionHistory history, CancellationToken cancellationToken = default)
    {
        var scores = new double[points.Count];
        ImpactState? tailRunning = null;
        var tailNext = 0;
        var p = 0;
        while (p < points.Count)
        {
            var ticks = points[p].UtcTicks;
            if (Count == 0 || ticks < MinTicks)
            {
                scores[p++] = 0;
                continue;
            }

            if (ticks >= MaxTicks)
            {
                scores[p++] = table.ToScore(head.TotalAt(ticks, table));
                continue;
            }

            if (ticks >= SealedThrough)
            {
                // The tail: one sweep serves every point in it.
                tailRunning ??= intervals.Count == 0 ? new ImpactState() : CumulativeAt(intervals.Count - 1).Clone();
                for (; tailNext < tail.Count && tail[tailNext].Ticks <= ticks; tailNext++)
                {
                    tailRunning.AdvanceTo(tail[tailNext].Ticks, table);
                    tailRunning.Add(tail[tailNext], regions.IndexOf(tail[tailNext].Region), table, trackPeak: false);
                }

                scores[p++] = ScoreAt(tailRunning, ticks);
                continue;
            }

            // Every point in one sealed interval: its running start, and its contributions read once up to its last point.
            var k = IntervalAt(ticks);
            var end = p;
            while (end + 1 < points.Count && points[end + 1].UtcTicks <= intervals[k].EndTicks)
            {
                end++;
            }

            var state = k == 0 ? new ImpactState() : CumulativeAt(k - 1).Clone();
            var pending = intervals[k].MinTicks <= points[end].UtcTicks ? await IntervalContributionsAsync(k, history, cancellationToken, points[end].UtcTicks) : [];

            var next = 0;
            for (; p <= end; p++)
            {
                var pointTicks = points[p].UtcTicks;
                for (; next < pending.Count && pending[next].Ticks <= pointTicks; next++)
                {
                    state.AdvanceTo(pending[next].Ticks, table);
                    state.Add(pending[next], regions.IndexOf(pending[next].Region), table, trackPeak: false);
                }

                scores[p] = pointTicks < MinTicks ? 0 : ScoreAt(state, pointTicks);
            }
        }

        return scores;
    }

    private double ScoreAt(ImpactState state, long ticks) => table.ToScore(state.TotalAt(ticks, table));

    /// <summary>Intervals written or changed since the last call (sealed, late events, recomputed peaks), for persistence.</summary>
    public IReadOnlyList<int> TakeDirtyIntervals()
    {
        var dirty = dirtyIntervals.ToList();
        dirtyIntervals.Clear();
        return dirty;
    }
}
