using System.Runtime.InteropServices;
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

    /// <summary>
    /// Pages of sealed intervals (the deltas of <see cref="TimelineCodec.ChunkSize"/> intervals each, about 40 KB with six
    /// regions) kept in memory once persisted, the most recently used; the others are read back from the timeline
    /// store. Pages not yet persisted stay whatever this says.
    /// </summary>
    public int PagesInMemory { get; set; } = 16;

    /// <summary>Chunks whose running totals at each interval's end are kept for /history (4.6 KB each).</summary>
    public int HistoryChunksInMemory { get; set; } = 256;

    /// <summary>Sealed intervals whose contributions (instant, type, value: 20 bytes each) are kept for /history.</summary>
    public int HistoryIntervalsInMemory { get; set; } = 256;
}

/// <summary>
/// One entity's impact over time, exact at any instant, in memory bounded by what still matters rather than by
/// everything that happened (docs/scoring.md#state-model):
/// <list type="bullet">
/// <item>the head: the exact state at the latest contribution (raw impact by type, direct and inherited, and by region;
/// own events; the all-time peak), which answers every query at or after it;</item>
/// <item>the tail: the recent contributions one by one, which answer instants among them;</item>
/// <item>sealed intervals of about <see cref="TimelineOptions.IntervalSize"/> contributions each: in memory only their
/// index (<see cref="TimelineInterval"/>, 40 bytes) and, per chunk of <see cref="TimelineCodec.ChunkSize"/> of them, the
/// chunk's summed delta and the running state at its end; the intervals' own deltas are in pages, a few in memory and
/// the rest read back from the timeline store (<see cref="ISealedChunkReader"/>). An older instant reads at most one
/// page and one interval of contributions from the <see cref="IContributionHistory"/>;</item>
/// <item>the largest contributions per event type (<see cref="ContributionRanking"/>), which explain the score.</item>
/// </list>
/// A late contribution (older than the tail) updates the one interval it falls in (its page, or a pending change
/// applied when the page is next read); the peaks after it are then recomputed from the history the first time a
/// query needs them.
/// </summary>
public sealed class EntityTimeline
{
    private const int PageSize = TimelineCodec.ChunkSize;
    private const int Types = ImpactValues.Types;
    private static readonly double[] NoDecay = Enumerable.Repeat(1.0, Types).ToArray();

    private readonly DecayTable table;
    private readonly TimelineOptions options;
    private readonly RegionTable regions = new();
    private readonly ContributionTail tail = new();
    private readonly SortedSet<int> dirtyIntervals = [];
    private ImpactState head = new();
    private bool headPeakValid = true;

    // Running states within the tail, peak included, kept by the last search for the head's peak (EnsureHeadPeakAsync).
    // Each holds every contribution at or before its instant (its At); adding one at or before that instant drops it.
    // A late contribution of a live feed is seconds old, so the next search starts from the last checkpoint before it
    // rather than from the tail's start: a busy entity read between its batches walked its whole tail on every read.
    private readonly List<ImpactState> peakCheckpoints = [];

    /// <summary>Tail contributions walked to find the head's peak again, in all (what the checkpoints save; for tests).</summary>
    internal long PeakSearchSteps { get; private set; }

    // The sealed past. Always in memory: the index of every interval, and a summary per chunk (page) of them.
    private readonly List<TimelineInterval> intervals = [];
    private readonly List<ChunkSummary> chunks = [];

    // Chunks before this index hold a valid running state (ChunkSummary.State); intervals before peakValid a valid peak.
    private int chunkStatesValid;
    private int peakValid;

    // The pages in memory; changes to pages that are not (late contributions, new intervals) until they are read back;
    // and the chunks whose latest changes are not in the timeline store yet, whose pages must therefore stay.
    private readonly Dictionary<int, Page> pages = [];
    private readonly Dictionary<int, List<(int Interval, double[] Delta)>> pendingDeltas = [];
    private readonly HashSet<int> unpersisted = [];
    private ISealedChunkReader? reader;
    private long useClock;
    private long lateCount;

    // For /history: running totals by type at each interval's end, per chunk; and intervals' contributions, compactly.
    private readonly Dictionary<int, HistoryTotals> historyTotals = [];
    private readonly Dictionary<int, HistorySlice> historySlices = [];

    /// <summary>One chunk's intervals together: their deltas summed and decayed to the chunk's end, and the running state there.</summary>
    private sealed class ChunkSummary(double[] delta, int ownCount)
    {
        public double[] Delta { get; set; } = delta;

        public int OwnCount { get; set; } = ownCount;

        /// <summary>The running state at the end of the chunk's last interval; valid before <see cref="chunkStatesValid"/>.</summary>
        public ImpactState? State { get; set; }
    }

    /// <summary>The deltas of one chunk's intervals, and the running state at every <see cref="CheckpointEvery"/>th of them once computed.</summary>
    private sealed class Page(List<double[]> deltas)
    {
        public List<double[]> Deltas { get; } = deltas;

        public ImpactState?[]? Checkpoints { get; set; }

        public long Used { get; set; }
    }

    /// <summary>The running total by type (direct and inherited together) at each interval's end in one chunk.</summary>
    private sealed class HistoryTotals(double[] totals)
    {
        public double[] Totals { get; } = totals;

        public long Used { get; set; }
    }

    /// <summary>An interval's contributions up to <see cref="Through"/>, as much of them as a score needs.</summary>
    private sealed class HistorySlice(long through, long[] ticks, int[] types, double[] values)
    {
        public long Through { get; } = through;

        public long[] Ticks { get; } = ticks;

        public int[] Types { get; } = types;

        public double[] Values { get; } = values;

        public long Used { get; set; }
    }

    public EntityTimeline(string entity, DecayTable table, TimelineOptions options)
    {
        Entity = entity;
        this.table = table;
        this.options = options;
        AllTop = new ContributionRanking(table, options.ExplainCapacity);
        SealedTop = new ContributionRanking(table, options.ExplainCapacity);
    }

    public string Entity { get; }

    /// <summary>
    /// A timeline as <see cref="TimelineCodec"/> stored it, without its sealed intervals (<see cref="RestoreChunk"/> adds
    /// them) and its tail (<see cref="RestoreTailAsync"/> reads it back, and builds the ranking of all contributions).
    /// </summary>
    internal static EntityTimeline Restore(
        string entity, DecayTable table, TimelineOptions options, IReadOnlyList<string> regionNames, long minTicks, int count,
        ImpactState head, bool headPeakValid, IReadOnlyList<Contribution> sealedTop)
    {
        var timeline = new EntityTimeline(entity, table, options)
        {
            head = head,
            headPeakValid = headPeakValid,
            MinTicks = minTicks,
            Count = count,
        };
        foreach (var region in regionNames)
        {
            timeline.regions.IndexOf(region);
        }

        foreach (var c in sealedTop)
        {
            timeline.SealedTop.Add(c);
        }

        return timeline;
    }

    /// <summary>Adds one stored chunk of a restored timeline (in chunk order), keeping its page in memory or not.</summary>
    internal void RestoreChunk(IReadOnlyList<TimelineInterval> entries, IReadOnlyList<double[]> deltas, bool keepPage)
    {
        var c = chunks.Count;
        if (intervals.Count != c * PageSize)
        {
            throw new InvalidDataException($"the timeline of {Entity}: chunk {c} follows a chunk that is not full");
        }

        var sum = (double[])deltas[0].Clone();
        var own = 0;
        Span<double> factors = stackalloc double[Types];
        for (var j = 0; j < entries.Count; j++)
        {
            if (j > 0)
            {
                ImpactValues.Factors(table, entries[j].EndTicks - entries[j - 1].EndTicks, factors);
                ImpactValues.Decay(sum, factors);
                ImpactValues.AddDecayed(ref sum, deltas[j], NoDecay);
            }

            own += entries[j].OwnCount;
            intervals.Add(entries[j]);
        }

        chunks.Add(new ChunkSummary(sum, own));
        if (keepPage)
        {
            pages[c] = new Page(deltas.ToList()) { Used = ++useClock };
        }
    }

    /// <summary>Before the chunks of a restored timeline: room for exactly its intervals.</summary>
    internal void ReserveIntervals(int count) => intervals.Capacity = Math.Max(intervals.Capacity, count);

    /// <summary>After the chunks of a restored timeline: how many leading intervals hold a valid peak.</summary>
    internal void RestorePeakValid(int valid) => peakValid = Math.Min(valid, intervals.Count);

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

    /// <summary>How many sealed intervals there are.</summary>
    public int IntervalCount => intervals.Count;

    /// <summary>The index entry of sealed interval <paramref name="k"/>.</summary>
    public TimelineInterval Interval(int k) => intervals[k];

    /// <summary>How many pages of sealed intervals are in memory now (those not yet persisted included).</summary>
    public int PagesInMemory => pages.Count;

    /// <summary>The largest contributions of each type, of every contribution.</summary>
    public ContributionRanking AllTop { get; private set; }

    /// <summary>The same, of the sealed contributions only: explanations of instants within the tail.</summary>
    public ContributionRanking SealedTop { get; private set; }

    /// <summary>The head state (values at <see cref="MaxTicks"/>); its peak is valid when <see cref="HeadPeakValid"/>.</summary>
    public ImpactState Head => head;

    public bool HeadPeakValid => headPeakValid;

    /// <summary>How many leading intervals hold a valid peak.</summary>
    public int PeakValidIntervals => peakValid;

    /// <summary>
    /// From now on, pages of persisted chunks beyond <see cref="TimelineOptions.PagesInMemory"/> leave memory and are
    /// read back from <paramref name="chunkReader"/>. Without a reader every page stays.
    /// </summary>
    public void PageTo(ISealedChunkReader chunkReader)
    {
        reader = chunkReader;
        TrimPages();
    }

    /// <summary>
    /// The timeline store now holds <paramref name="persisted"/> as they were when last written
    /// (<see cref="TimelineCodec.WriteChunk"/> after <see cref="TakeDirtyIntervals"/>): their pages may leave memory,
    /// unless they changed again since.
    /// </summary>
    public void MarkPersisted(IEnumerable<int> persisted)
    {
        foreach (var c in persisted)
        {
            if (dirtyIntervals.GetViewBetween(c * PageSize, (c + 1) * PageSize - 1).Count == 0)
            {
                unpersisted.Remove(c);
            }
        }

        TrimPages();
    }

    /// <summary>Whether every chunk that changed since it was last persisted has its page in memory, as writing it needs.</summary>
    public bool UnpersistedInMemory => unpersisted.All(pages.ContainsKey);

    /// <summary>Reads back the pages of changed chunks that are not in memory (changes made while they were out), so that they can be written.</summary>
    public async ValueTask LoadUnpersistedAsync(CancellationToken cancellationToken = default)
    {
        foreach (var c in unpersisted.Where(c => !pages.ContainsKey(c)).Order().ToList())
        {
            await PageAsync(c, cancellationToken);
        }
    }

    /// <summary>The delta of sealed interval <paramref name="k"/>, whose page must be in memory (as it is for every chunk not yet persisted).</summary>
    internal double[] ResidentDelta(int k) =>
        pages.TryGetValue(k / PageSize, out var page)
            ? page.Deltas[k % PageSize]
            : throw new InvalidOperationException($"the timeline of {Entity}: the page of interval {k} is not in memory");

    public void Add(in Contribution c)
    {
        var region = regions.IndexOf(c.Region);
        Count++;
        MinTicks = Math.Min(MinTicks, c.Ticks);
        AllTop.Add(c);
        DropPeakCheckpointsFrom(c.Ticks);
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
            tail.Insert(c);
            Seal();
        }
        else
        {
            AddLate(c, region);
        }
    }

    private void AddDecayed(ImpactState state, in Contribution c, int region) => state.AddDecayed(c, region, table);

    private int LastIntervalOf(int chunk) => Math.Min((chunk + 1) * PageSize, intervals.Count) - 1;

    /// <summary>A contribution at or before <see cref="SealedThrough"/>: it joins the interval it falls in.</summary>
    private void AddLate(in Contribution c, int region)
    {
        var k = IntervalAt(c.Ticks);
        var chunk = k / PageSize;
        var one = new double[ImpactValues.Length(region + 1)];
        ImpactValues.Add(ref one, c, region);
        Span<double> factors = stackalloc double[Types];
        ImpactValues.Factors(table, intervals[k].EndTicks - c.Ticks, factors);
        var atEnd = new double[one.Length];
        ImpactValues.AddDecayed(ref atEnd, one, factors);

        ref var entry = ref CollectionsMarshal.AsSpan(intervals)[k];
        entry.MinTicks = Math.Min(entry.MinTicks, c.Ticks);
        entry.Count++;
        entry.OwnCount += c.Own ? 1 : 0;

        var summary = chunks[chunk];
        ImpactValues.Factors(table, intervals[LastIntervalOf(chunk)].EndTicks - intervals[k].EndTicks, factors);
        var sum = summary.Delta;
        ImpactValues.AddDecayed(ref sum, atEnd, factors);
        summary.Delta = sum;
        summary.OwnCount += c.Own ? 1 : 0;
        AddToPage(chunk, k, atEnd);
        SealedTop.Add(c);

        // Everything derived from this interval on is stale: the running states after it, and what /history keeps.
        if (intervalCache?.Index == k)
        {
            intervalCache = null;
        }

        historySlices.Remove(k);
        foreach (var (pageChunk, page) in pages)
        {
            if (pageChunk >= chunk)
            {
                page.Checkpoints = null;
            }
        }

        foreach (var stale in historyTotals.Keys.Where(h => h >= chunk).ToList())
        {
            historyTotals.Remove(stale);
        }

        chunkStatesValid = Math.Min(chunkStatesValid, chunk);
        peakValid = Math.Min(peakValid, k);
        lateCount++;
        dirtyIntervals.Add(k);
        unpersisted.Add(chunk);
    }

    /// <summary>Adds <paramref name="delta"/> (at interval k's end) to k's delta: in its page, or pending until the page is read back.</summary>
    private void AddToPage(int chunk, int k, double[] delta)
    {
        if (pages.TryGetValue(chunk, out var page))
        {
            var local = k - chunk * PageSize;
            if (local == page.Deltas.Count)
            {
                page.Deltas.Add(delta);
            }
            else
            {
                var values = page.Deltas[local];
                ImpactValues.AddDecayed(ref values, delta, NoDecay);
                page.Deltas[local] = values;
            }

            page.Checkpoints = null;
            return;
        }

        if (!pendingDeltas.TryGetValue(chunk, out var pending))
        {
            pendingDeltas[chunk] = pending = [];
        }

        pending.Add((k, delta));
    }

    /// <summary>The first interval whose end is at or after <paramref name="ticks"/>; <see cref="IntervalCount"/> when none is.</summary>
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

        var running = intervals.Count == 0 ? new ImpactState() : ChunkState(chunks.Count - 1).Clone();
        var trackPeak = peakValid == intervals.Count;
        if (trackPeak && intervals.Count > 0)
        {
            running.SetPeak(intervals[^1].PeakScore, intervals[^1].PeakTicks);
        }

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
                AppendInterval(new TimelineInterval(c.Ticks, minTicks, inInterval, delta.OwnCount, running.PeakScore, running.PeakTicks), delta.Values, running);
                delta = new ImpactState();
                minTicks = long.MaxValue;
                inInterval = 0;
            }
        }

        if (trackPeak)
        {
            peakValid = intervals.Count;
        }

        tail.RemoveFirst(n);
        // A checkpoint before the tail's new start cannot be continued from the tail.
        var sealedThrough = SealedThrough;
        var passed = 0;
        while (passed < peakCheckpoints.Count && peakCheckpoints[passed].At < sealedThrough)
        {
            passed++;
        }

        peakCheckpoints.RemoveRange(0, passed);
    }

    private void DropPeakCheckpointsFrom(long ticks)
    {
        var keep = peakCheckpoints.Count;
        while (keep > 0 && peakCheckpoints[keep - 1].At >= ticks)
        {
            keep--;
        }

        peakCheckpoints.RemoveRange(keep, peakCheckpoints.Count - keep);
    }

    /// <summary>A new last interval, with its delta and the running state at its end (exact when every chunk state before it is).</summary>
    private void AppendInterval(TimelineInterval entry, double[] delta, ImpactState running)
    {
        var k = intervals.Count;
        var chunk = k / PageSize;
        if (k == intervals.Capacity)
        {
            // The index is most of what grows with the history: grow it by an eighth, not double it (half empty at worst).
            intervals.Capacity = k + k / 8 + PageSize;
        }

        intervals.Add(entry);
        if (k % PageSize == 0)
        {
            chunks.Add(new ChunkSummary((double[])delta.Clone(), entry.OwnCount));
            pages[chunk] = new Page([delta]) { Used = ++useClock };
        }
        else
        {
            var summary = chunks[chunk];
            Span<double> factors = stackalloc double[Types];
            ImpactValues.Factors(table, entry.EndTicks - intervals[k - 1].EndTicks, factors);
            var sum = summary.Delta;
            ImpactValues.Decay(sum, factors);
            ImpactValues.AddDecayed(ref sum, delta, NoDecay);
            summary.Delta = sum;
            summary.OwnCount += entry.OwnCount;
            AddToPage(chunk, k, delta);
        }

        if (chunkStatesValid >= chunk)
        {
            chunks[chunk].State = running.Clone();
            chunkStatesValid = chunk + 1;
        }

        historyTotals.Remove(chunk);
        dirtyIntervals.Add(k);
        unpersisted.Add(chunk);
    }

    /// <summary>The running state at the end of chunk <paramref name="c"/>'s last interval (not to be changed; clone it). Its peak is not maintained.</summary>
    private ImpactState ChunkState(int c)
    {
        for (var j = chunkStatesValid; j <= c; j++)
        {
            var summary = chunks[j];
            var end = intervals[LastIntervalOf(j)].EndTicks;
            var state = j == 0 ? new ImpactState() : chunks[j - 1].State!.Clone();
            state.AdvanceTo(end, table);
            state.AddDecayed(summary.Delta, end, summary.OwnCount, table);
            summary.State = state;
        }

        chunkStatesValid = Math.Max(chunkStatesValid, c + 1);
        return chunks[c].State!;
    }

    /// <summary>
    /// The running state is kept in a page only at every <see cref="CheckpointEvery"/>th interval: the others are
    /// recomputed from the one before them, at most that many small additions.
    /// </summary>
    private const int CheckpointEvery = 4;

    /// <summary>The running state at interval <paramref name="k"/>'s end (not to be changed; clone it). Its peak is not maintained.</summary>
    private async ValueTask<ImpactState> CumulativeAtAsync(int k, CancellationToken cancellationToken)
    {
        var chunk = k / PageSize;
        if (k == LastIntervalOf(chunk))
        {
            return ChunkState(chunk);
        }

        var page = await PageAsync(chunk, cancellationToken);
        var first = chunk * PageSize;
        if (page.Checkpoints is null)
        {
            var checkpoints = new ImpactState?[page.Deltas.Count];
            var running = chunk == 0 ? new ImpactState() : ChunkState(chunk - 1).Clone();
            for (var j = 0; j < page.Deltas.Count; j++)
            {
                Step(running, first + j, page.Deltas[j]);
                if (j % CheckpointEvery == CheckpointEvery - 1)
                {
                    checkpoints[j] = running.Clone();
                }
            }

            page.Checkpoints = checkpoints;
        }

        var local = k - first;
        var from = local < CheckpointEvery - 1 ? -1 : local - (local + 1) % CheckpointEvery;
        var state = from >= 0 ? page.Checkpoints[from]!.Clone() : chunk == 0 ? new ImpactState() : ChunkState(chunk - 1).Clone();
        for (var j = from + 1; j <= local; j++)
        {
            Step(state, first + j, page.Deltas[j]);
        }

        return state;
    }

    private void Step(ImpactState running, int k, double[] delta)
    {
        var end = intervals[k].EndTicks;
        running.AdvanceTo(end, table);
        running.AddDecayed(delta, end, intervals[k].OwnCount, table);
    }

    /// <summary>The running state at interval <paramref name="k"/>'s end, a copy of its own, with the peak through it when asked.</summary>
    private async ValueTask<ImpactState> SealedStateAsync(int k, bool withPeak, IContributionHistory history, CancellationToken cancellationToken)
    {
        if (withPeak)
        {
            await EnsurePeaksAsync(k, history, cancellationToken);
        }

        var state = (await CumulativeAtAsync(k, cancellationToken)).Clone();
        if (withPeak)
        {
            state.SetPeak(intervals[k].PeakScore, intervals[k].PeakTicks);
        }

        return state;
    }

    /// <summary>Chunk <paramref name="chunk"/>'s page: from memory, or read back from the timeline store with the changes made meanwhile.</summary>
    private async ValueTask<Page> PageAsync(int chunk, CancellationToken cancellationToken)
    {
        if (pages.TryGetValue(chunk, out var page))
        {
            page.Used = ++useClock;
            return page;
        }

        if (reader is null)
        {
            throw new InvalidOperationException($"the timeline of {Entity}: the page of chunk {chunk} is not in memory and there is no store to read it from");
        }

        var bytes = await reader.ReadChunkAsync(chunk, cancellationToken);
        if (pages.TryGetValue(chunk, out page))
        {
            page.Used = ++useClock; // read back by another query meanwhile
            return page;
        }

        if (bytes is null)
        {
            throw new InvalidDataException($"the timeline of {Entity}: the store has no chunk {chunk} to read back");
        }

        var stored = TimelineCodec.ReadChunkDeltas(bytes);
        var first = chunk * PageSize;
        var last = LastIntervalOf(chunk);
        var deltas = new List<double[]>(last - first + 1);
        for (var k = first; k <= last; k++)
        {
            if (k - first < stored.Count)
            {
                if (stored[k - first].EndTicks != intervals[k].EndTicks)
                {
                    throw new InvalidDataException($"the timeline of {Entity}: stored chunk {chunk} does not match interval {k}");
                }

                deltas.Add(stored[k - first].Delta);
            }
            else
            {
                deltas.Add(new double[ImpactValues.Length(0)]); // sealed since the chunk was stored: its delta is pending
            }
        }

        if (pendingDeltas.Remove(chunk, out var pending))
        {
            foreach (var (k, delta) in pending)
            {
                var values = deltas[k - first];
                ImpactValues.AddDecayed(ref values, delta, NoDecay);
                deltas[k - first] = values;
            }
        }

        page = new Page(deltas) { Used = ++useClock };
        pages[chunk] = page;
        TrimPages();
        return page;
    }

    /// <summary>Lets go of the least recently used persisted pages beyond <see cref="TimelineOptions.PagesInMemory"/>.</summary>
    private void TrimPages()
    {
        if (reader is null)
        {
            return;
        }

        var persisted = pages.Where(p => !unpersisted.Contains(p.Key)).ToList();
        var excess = persisted.Count - Math.Max(0, options.PagesInMemory);
        if (excess <= 0)
        {
            return;
        }

        foreach (var (chunk, _) in persisted.OrderBy(p => p.Value.Used).Take(excess))
        {
            pages.Remove(chunk);
        }
    }

    /// <summary>
    /// Reads the tail of a restored timeline back from the history: every contribution after the sealed intervals. The
    /// head and the counts already include them; the ranking of all contributions is built again from the sealed
    /// ranking and the tail (its members are the largest of each type among exactly those), so a snapshot need not
    /// hold it.
    /// </summary>
    public async ValueTask RestoreTailAsync(IContributionHistory history, CancellationToken cancellationToken = default)
    {
        tail.Clear();
        peakCheckpoints.Clear();
        if (Count > 0)
        {
            await foreach (var c in history.ReadAsync(SealedThrough, long.MaxValue, cancellationToken))
            {
                regions.IndexOf(c.Region);
                tail.Append(c);
            }
        }

        AllTop = new ContributionRanking(table, options.ExplainCapacity);
        foreach (var c in SealedTop.Members)
        {
            AllTop.Add(c);
        }

        foreach (var c in tail)
        {
            AllTop.Add(c);
        }
    }

    /// <summary>The encoding of <see cref="SealedTop"/> last written, and the ranking's version it encodes (it changes only as intervals are sealed).</summary>
    internal (long Version, byte[] Bytes)? SealedTopEncoding { get; set; }

    /// <summary>Makes sure intervals 0…<paramref name="k"/> hold valid peaks, recomputing them from the history if a late event made them stale.</summary>
    private async ValueTask EnsurePeaksAsync(int k, IContributionHistory history, CancellationToken cancellationToken)
    {
        if (k < peakValid)
        {
            return;
        }

        // Recompute every stale peak at once, through the last interval: late events are rare, their cost is one pass.
        // Only the index changes (and the chunks are marked for writing): no page needs to be in memory for it.
        var last = intervals.Count - 1;
        var valid = peakValid;
        var running = valid == 0 ? new ImpactState() : await SealedStateAsync(valid - 1, withPeak: false, history, cancellationToken);
        if (valid > 0)
        {
            running.SetPeak(intervals[valid - 1].PeakScore, intervals[valid - 1].PeakTicks);
        }

        var lateBefore = lateCount;
        var j = valid;
        await foreach (var c in history.ReadAsync(running.At, intervals[last].EndTicks, cancellationToken))
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

        if (lateCount == lateBefore)
        {
            // Otherwise a late contribution arrived meanwhile and set peakValid back to where it fell: leave it there.
            peakValid = Math.Max(peakValid, last + 1);
        }
    }

    private void SetIntervalPeak(int j, ImpactState running)
    {
        ref var entry = ref CollectionsMarshal.AsSpan(intervals)[j];
        if (entry.PeakTicks == running.PeakTicks && Math.Abs(entry.PeakScore - running.PeakScore) <= 1e-12 * Math.Max(1, entry.PeakScore))
        {
            // Unchanged but for rounding: a late event rarely moves the peaks long after it, and marking the interval
            // would make the next snapshot read back and rewrite every page after it.
            return;
        }

        entry.PeakScore = running.PeakScore;
        entry.PeakTicks = running.PeakTicks;
        dirtyIntervals.Add(j);
        unpersisted.Add(j / PageSize);
    }

    /// <summary>The all-time peak, found again if a late event made it stale.</summary>
    private async ValueTask EnsureHeadPeakAsync(IContributionHistory history, CancellationToken cancellationToken)
    {
        if (headPeakValid)
        {
            return;
        }

        ImpactState running;
        var from = 0;
        if (peakCheckpoints.Count > 0 && peakCheckpoints[^1].At >= SealedThrough)
        {
            // Everything after the checkpoint is in the tail, and nothing at or before it changed since it was taken.
            running = peakCheckpoints[^1].Clone();
            from = tail.FirstAfter(running.At);
        }
        else
        {
            peakCheckpoints.Clear();
            running = intervals.Count == 0 ? new ImpactState() : await SealedStateAsync(intervals.Count - 1, withPeak: true, history, cancellationToken);
        }

        // About 64 checkpoints over a full tail, at least 32 contributions apart: a few KB for a busy entity.
        var spacing = Math.Max(32, tail.Count / 64);
        var sinceCheckpoint = 0;
        PeakSearchSteps += tail.Count - from;
        for (var i = from; i < tail.Count; i++)
        {
            var c = tail[i];
            running.AdvanceTo(c.Ticks, table);
            running.Add(c, regions.IndexOf(c.Region), table, trackPeak: true);
            // Whole instants only: a checkpoint holds every contribution at its instant.
            if (++sinceCheckpoint >= spacing && (i == tail.Count - 1 || tail[i + 1].Ticks != c.Ticks))
            {
                peakCheckpoints.Add(running.Clone());
                sinceCheckpoint = 0;
            }
        }

        head.SetPeak(running.PeakScore, running.PeakTicks);
        headPeakValid = true;
    }

    /// <summary>
    /// The exact state at <paramref name="atTicks"/>: raw impact of every contribution at or before it decayed to it, the
    /// own events counted, and (when <paramref name="withPeak"/>) the peak at or before it. From memory at or after
    /// the oldest contribution of the tail; older instants read at most one page from the timeline store and one
    /// interval back from the history.
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
            var running = intervals.Count == 0 ? new ImpactState() : await SealedStateAsync(intervals.Count - 1, withPeak, history, cancellationToken);
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
        var state = k == 0 ? new ImpactState() : await SealedStateAsync(k - 1, withPeak, history, cancellationToken);
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

    private async ValueTask<List<Contribution>> IntervalContributionsAsync(int k, IContributionHistory history, CancellationToken cancellationToken)
    {
        if (intervalCache is { } cached && cached.Index == k)
        {
            return cached.Items;
        }

        var items = new List<Contribution>(intervals[k].Count);
        await foreach (var c in history.ReadAsync(k == 0 ? long.MinValue : intervals[k - 1].EndTicks, intervals[k].EndTicks, cancellationToken))
        {
            items.Add(c);
        }

        intervalCache = (k, items);
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
            foreach (var c in AllTop.TopCandidates(limit))
            {
                Consider(c);
            }
        }
        else if (atTicks >= SealedThrough && limit <= SealedTop.Capacity)
        {
            foreach (var c in SealedTop.TopCandidates(limit))
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


    /// <summary>
    /// Scores at <paramref name="points"/> (ascending), in one ordered pass: each sealed interval that points fall in is
    /// visited once, starting from the running totals by type at the end of the interval before it (kept per chunk),
    /// and its contributions up to its last point are read once (and kept for the next /history).
    /// </summary>
    public async ValueTask<IReadOnlyList<double>> HistoryAsync(IReadOnlyList<DateTimeOffset> points, IContributionHistory history, CancellationToken cancellationToken = default)
    {
        var scores = new double[points.Count];
        ImpactState? tailRunning = null;
        var tailNext = 0;
        var p = 0;
        var running = new double[Types];
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
                tailRunning ??= intervals.Count == 0 ? new ImpactState() : ChunkState(chunks.Count - 1).Clone();
                for (; tailNext < tail.Count && tail[tailNext].Ticks <= ticks; tailNext++)
                {
                    tailRunning.AdvanceTo(tail[tailNext].Ticks, table);
                    tailRunning.Add(tail[tailNext], regions.IndexOf(tail[tailNext].Region), table, trackPeak: false);
                }

                scores[p++] = table.ToScore(tailRunning.TotalAt(ticks, table));
                continue;
            }

            // Every point in one sealed interval: the totals at the end of the one before, then its contributions.
            var k = IntervalAt(ticks);
            var end = p;
            while (end + 1 < points.Count && points[end + 1].UtcTicks <= intervals[k].EndTicks)
            {
                end++;
            }

            var at = long.MinValue;
            Array.Clear(running);
            if (k > 0)
            {
                at = await TotalsAtAsync(k - 1, running, cancellationToken);
            }

            var slice = intervals[k].MinTicks <= points[end].UtcTicks ? await HistorySliceAsync(k, points[end].UtcTicks, history, cancellationToken) : null;
            var next = 0;
            for (; p <= end; p++)
            {
                var pointTicks = points[p].UtcTicks;
                for (; slice is not null && next < slice.Ticks.Length && slice.Ticks[next] <= pointTicks; next++)
                {
                    at = Advance(running, at, slice.Ticks[next]);
                    running[slice.Types[next]] += slice.Values[next];
                }

                scores[p] = pointTicks < MinTicks ? 0 : table.ToScore(TotalAt(running, at, pointTicks));
            }
        }

        return scores;
    }

    /// <summary>Decays totals by type from <paramref name="at"/> to <paramref name="ticks"/> (when later); the instant they are at now.</summary>
    private long Advance(double[] totals, long at, long ticks)
    {
        if (at == long.MinValue || ticks <= at)
        {
            return Math.Max(at, ticks);
        }

        Span<double> factors = stackalloc double[Types];
        ImpactValues.Factors(table, ticks - at, factors);
        for (var t = 0; t < Types; t++)
        {
            totals[t] *= factors[t];
        }

        return ticks;
    }

    /// <summary>The sum of totals by type at <paramref name="at"/>, decayed to <paramref name="ticks"/>, without changing them.</summary>
    private double TotalAt(double[] totals, long at, long ticks)
    {
        Span<double> factors = stackalloc double[Types];
        if (at == long.MinValue || ticks <= at)
        {
            factors.Fill(1);
        }
        else
        {
            ImpactValues.Factors(table, ticks - at, factors);
        }

        var sum = 0.0;
        for (var t = 0; t < Types; t++)
        {
            sum += totals[t] * factors[t];
        }

        return sum;
    }

    /// <summary>Direct and inherited impact of each type together, from full <see cref="ImpactValues"/>.</summary>
    private static void AddTotals(double[] totals, double[] values)
    {
        for (var t = 0; t < Types; t++)
        {
            totals[t] += (t < values.Length ? values[t] : 0) + (ImpactValues.Inherited + t < values.Length ? values[ImpactValues.Inherited + t] : 0);
        }
    }

    /// <summary>Writes the running totals by type at interval <paramref name="k"/>'s end into <paramref name="totals"/>; returns that end.</summary>
    private async ValueTask<long> TotalsAtAsync(int k, double[] totals, CancellationToken cancellationToken)
    {
        var chunk = k / PageSize;
        if (k == LastIntervalOf(chunk))
        {
            var state = ChunkState(chunk);
            AddTotals(totals, state.Values);
            return state.At;
        }

        if (!historyTotals.TryGetValue(chunk, out var cached))
        {
            var page = await PageAsync(chunk, cancellationToken);
            var all = new double[page.Deltas.Count * Types];
            var run = new double[Types];
            var at = long.MinValue;
            if (chunk > 0)
            {
                var start = ChunkState(chunk - 1);
                AddTotals(run, start.Values);
                at = start.At;
            }

            var first = chunk * PageSize;
            for (var j = 0; j < page.Deltas.Count; j++)
            {
                at = Advance(run, at, intervals[first + j].EndTicks);
                AddTotals(run, page.Deltas[j]);
                Array.Copy(run, 0, all, j * Types, Types);
            }

            historyTotals[chunk] = cached = new HistoryTotals(all);
            Trim(historyTotals, options.HistoryChunksInMemory, h => h.Used);
        }

        cached.Used = ++useClock;
        Array.Copy(cached.Totals, (k - chunk * PageSize) * Types, totals, 0, Types);
        return intervals[k].EndTicks;
    }

    /// <summary>Interval <paramref name="k"/>'s contributions through <paramref name="throughTicks"/>, kept for the next /history.</summary>
    private async ValueTask<HistorySlice> HistorySliceAsync(int k, long throughTicks, IContributionHistory history, CancellationToken cancellationToken)
    {
        if (historySlices.TryGetValue(k, out var slice) && slice.Through >= throughTicks)
        {
            slice.Used = ++useClock;
            return slice;
        }

        var through = Math.Min(throughTicks, intervals[k].EndTicks);
        IReadOnlyList<Contribution> items;
        if (intervalCache is { } cached && cached.Index == k)
        {
            items = cached.Items;
        }
        else
        {
            var read = new List<Contribution>();
            await foreach (var c in history.ReadAsync(k == 0 ? long.MinValue : intervals[k - 1].EndTicks, through, cancellationToken))
            {
                read.Add(c);
            }

            items = read;
        }

        var n = 0;
        while (n < items.Count && items[n].Ticks <= through)
        {
            n++;
        }

        var ticks = new long[n];
        var types = new int[n];
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            (ticks[i], types[i], values[i]) = (items[i].Ticks, (int)items[i].Type, items[i].Value);
        }

        slice = new HistorySlice(through, ticks, types, values) { Used = ++useClock };
        historySlices[k] = slice;
        Trim(historySlices, options.HistoryIntervalsInMemory, s => s.Used);
        return slice;
    }

    /// <summary>Drops the least recently used entries beyond <paramref name="capacity"/>.</summary>
    private static void Trim<T>(Dictionary<int, T> cache, int capacity, Func<T, long> used)
    {
        capacity = Math.Max(1, capacity);
        if (cache.Count <= capacity)
        {
            return;
        }

        // Down to three quarters, so that the sort runs once per quarter of the capacity added rather than on every
        // addition: a 200-point /history at other instants each time added 200 slices, and sorted 256 on each.
        var excess = cache.Count - (capacity - capacity / 4);

        foreach (var key in cache.OrderBy(e => used(e.Value)).Take(excess).Select(e => e.Key).ToList())
        {
            cache.Remove(key);
        }
    }

    /// <summary>Intervals written or changed since the last call (sealed, late events, recomputed peaks), for persistence.</summary>
    public IReadOnlyList<int> TakeDirtyIntervals()
    {
        var dirty = dirtyIntervals.ToList();
        dirtyIntervals.Clear();
        return dirty;
    }
}
