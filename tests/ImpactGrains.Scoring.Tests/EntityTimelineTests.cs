using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Timeline;

namespace ImpactGrains.Scoring.Tests;

/// <summary>
/// The bounded timeline answers exactly what the full recomputation from every event answers (<see cref="ImpactView"/>,
/// the definition of docs/scoring.md): impact, peak, trend, explanation and history, at any instant, whatever order and
/// batching the events came in, with late events, and across sealed intervals read back from the history.
/// </summary>
public sealed class EntityTimelineTests
{
    private const double Tolerance = 1e-9;
    private static readonly ScoringModel Model = ScoringModel.Default;
    private static readonly DecayTable Table = new(Model);
    private static readonly ImpactCalculator Calculator = new(Model);
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] RegionCodes = ["US", "DE", "CN", "GLOBAL", "FR"];

    /// <summary>Small sizes, so that a few thousand events seal many intervals and take every path.</summary>
    private static TimelineOptions SmallOptions(Random random) => new()
    {
        TailCapacity = random.Next(8, 200),
        LateAllowance = TimeSpan.FromMinutes(random.Next(0, 600)),
        IntervalSize = random.Next(1, 20),
        ExplainCapacity = 40,
        PagesInMemory = random.Next(0, 3),
        HistoryChunksInMemory = random.Next(1, 4),
        HistoryIntervalsInMemory = random.Next(1, 8),
    };

    /// <summary>
    /// The timeline store as the grain uses it: changed chunks written after <see cref="EntityTimeline.TakeDirtyIntervals"/>
    /// and marked persisted, so that their pages may leave memory and be read back from here.
    /// </summary>
    private sealed class ChunkStore : ISealedChunkReader
    {
        private readonly Dictionary<int, byte[]> chunks = [];

        public int Reads { get; private set; }

        public async ValueTask<byte[]?> ReadChunkAsync(int chunk, CancellationToken cancellationToken = default)
        {
            Reads++;
            await Task.Yield();
            return chunks[chunk];
        }

        public async Task PersistAsync(EntityTimeline timeline)
        {
            while (!timeline.UnpersistedInMemory)
            {
                await timeline.LoadUnpersistedAsync();
            }

            var written = TimelineCodec.ChunksOf(timeline.TakeDirtyIntervals())
                .Concat(Enumerable.Range(0, TimelineCodec.ChunkCount(timeline.IntervalCount)).Where(c => !chunks.ContainsKey(c)))
                .Distinct()
                .ToList();
            foreach (var c in written)
            {
                chunks[c] = TimelineCodec.WriteChunk(timeline, c);
            }

            timeline.MarkPersisted(written);
        }

        public IReadOnlyList<byte[]> All(EntityTimeline timeline) =>
            Enumerable.Range(0, TimelineCodec.ChunkCount(timeline.IntervalCount)).Select(c => chunks[c]).ToList();
    }

    /// <summary>The history every contribution added so far, as a log would give it back.</summary>
    private sealed class RecordedHistory : IContributionHistory
    {
        private readonly List<Contribution> all = [];

        public int Reads { get; private set; }

        public void Add(Contribution c) => all.Add(c);

        public async IAsyncEnumerable<Contribution> ReadAsync(long afterTicks, long throughTicks, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Reads++;
            await Task.Yield();
            foreach (var c in all.Where(c => c.Ticks > afterTicks && c.Ticks <= throughTicks).Order(Contribution.TimeOrder))
            {
                yield return c;
            }
        }
    }

    private static ScoredEvent RandomEvent(Random random, string entity, int n, TimeSpan span)
    {
        var type = (EventType)random.Next(EventTypes.Count - 1);
        EventData data = type switch
        {
            EventType.Outage => new OutageData(random.Next(0, 100_000), random.Next(2) == 0 ? null : random.Next(0, 2000), random.NextDouble() * 600),
            EventType.Cyberattack => new CyberattackData(random.Next(2) == 0, null),
            EventType.Protest => new ProtestData(random.Next(0, 50_000), random.Next(0, 200)),
            EventType.SalesChange => new SalesChangeData(random.NextDouble() * 150 - 100, null, null),
            EventType.StockChange => new StockChangeData(random.NextDouble() * 60 - 40, null),
            EventType.NetWorthChange => new NetWorthChangeData(random.NextDouble() * 2e11 - 1.5e11, random.Next(2) == 0 ? null : 3e11),
            _ => new SeverityData((Severity)random.Next(3), null),
        };

        // Some instants shared by several events, as batches from one moment are.
        var ticks = random.Next(5) == 0 ? (long)(random.Next(20) * (span.Ticks / 20.0)) : (long)(random.NextDouble() * span.Ticks);
        var e = new ImpactEvent($"{entity}-{n}", entity, type, Start + TimeSpan.FromTicks(ticks), RegionCodes[random.Next(RegionCodes.Length)],
            Math.Round(random.NextDouble(), 3), null, data);
        return Calculator.Score(e, n);
    }

    private sealed record Scenario(List<ScoredEvent> Own, List<ScoredEvent> Source, double Weight, List<Contribution> Arrivals, TimeSpan Span);

    /// <summary>Own and inherited events, arriving mostly in time order with some disorder and some very late ones.</summary>
    private static Scenario RandomScenario(Random random, int count)
    {
        var span = TimeSpan.FromDays(random.Next(1, 90));
        var own = Enumerable.Range(1, count).Select(n => RandomEvent(random, "tesla", n, span)).ToList();
        var source = Enumerable.Range(1, random.Next(0, count / 2 + 1)).Select(n => RandomEvent(random, "elon-musk", n, span)).ToList();
        var weight = Math.Round(0.05 + random.NextDouble() * 0.95, 2);
        var arrivals = own.Select(e => Contribution.OwnEvent(e, "tesla"))
            .Concat(source.Select(e => Contribution.InheritedEvent(e, "elon-musk", weight)))
            .ToList();
        var mode = random.Next(3);
        arrivals = mode switch
        {
            0 => arrivals.OrderBy(_ => random.Next()).ToList(), // any order
            1 => arrivals.OrderBy(c => c.Ticks + (long)(random.NextDouble() * TimeSpan.FromHours(6).Ticks)).ToList(), // jittered
            _ => arrivals.OrderBy(c => random.Next(10) == 0 ? random.Next() : c.Ticks).ToList(), // in order, a tenth late
        };
        return new Scenario(own, source, weight, arrivals, span);
    }

    private static ImpactView Reference(Scenario s, int ownApplied, IReadOnlyCollection<Contribution> applied)
    {
        var ownLedger = new EventLedger(Table);
        var sourceLedger = new EventLedger(Table);
        foreach (var c in applied)
        {
            var events = c.Own ? s.Own : s.Source;
            var e = events[(int)c.Sequence - 1];
            (c.Own ? ownLedger : sourceLedger).TryAdd(e);
        }

        return new ImpactView("tesla", ownLedger, [new InheritedSource("elon-musk", s.Weight, sourceLedger)]);
    }

    private static void AssertSame(ImpactBreakdown expected, ImpactBreakdown actual, string what)
    {
        void Near(double e, double a, string field) =>
            Assert.True(Math.Abs(e - a) <= Tolerance * Math.Max(1, Math.Abs(e)), $"{what}: {field} {a} differs from {e}");

        Near(expected.Score, actual.Score, "score");
        Near(expected.Direct, actual.Direct, "direct");
        Near(expected.Inherited, actual.Inherited, "inherited");
        Near(expected.Trend24h, actual.Trend24h, "trend24h");
        Near(expected.Peak.Score, actual.Peak.Score, "peak");
        Assert.True(expected.Peak.At == actual.Peak.At || Math.Abs(expected.Peak.Score - actual.Peak.Score) <= Tolerance,
            $"{what}: peak at {actual.Peak.At} differs from {expected.Peak.At}");
        Assert.Equal(expected.EventCount, actual.EventCount);
        foreach (var category in EventTypes.Categories)
        {
            Near(expected.Categories[category], actual.Categories[category], category.ToString());
        }

        Assert.Equal(expected.Regions.Keys.Order(), actual.Regions.Keys.Order());
        foreach (var (region, score) in expected.Regions)
        {
            Near(score, actual.Regions[region], region);
        }
    }

    private static async Task CheckAsync(Scenario s, EntityTimeline timeline, RecordedHistory history, List<Contribution> applied, Random random, string what)
    {
        var reference = Reference(s, 0, applied);
        var instants = Enumerable.Range(0, 5).Select(_ => Start + TimeSpan.FromTicks((long)(random.NextDouble() * s.Span.Ticks)))
            .Concat(applied.Count > 0 ? [applied[random.Next(applied.Count)].OccurredAt] : [])
            .Append(Start + s.Span + TimeSpan.FromDays(1))
            .Append(Start - TimeSpan.FromDays(1))
            .ToList();
        foreach (var at in instants)
        {
            AssertSame(reference.Evaluate(at), await timeline.EvaluateAsync(at, history), $"{what}, impact at {at:O}");
            var limit = random.Next(1, 40);
            var expected = reference.Explain(at, limit);
            var actual = await timeline.ExplainAsync(at, limit, history);
            Assert.True(expected.Count == actual.Count, $"{what}, explain at {at:O}: {actual.Count} items, expected {expected.Count}");
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.True(expected[i].EventId == actual[i].EventId, $"{what}, explain at {at:O}, item {i}: {actual[i].EventId}, expected {expected[i].EventId}");
                Assert.Equal(expected[i].Entity, actual[i].Entity);
                Assert.True(Math.Abs(expected[i].Share - actual[i].Share) <= Tolerance, $"{what}: share of {actual[i].EventId}");
                Assert.True(Math.Abs(expected[i].Contribution - actual[i].Contribution) <= Tolerance * 100, $"{what}: contribution of {actual[i].EventId}");
            }
        }

        var from = Start - TimeSpan.FromDays(1);
        var step = TimeSpan.FromTicks((s.Span + TimeSpan.FromDays(2)).Ticks / random.Next(5, 120));
        var points = Enumerable.Range(0, (int)((s.Span + TimeSpan.FromDays(2)) / step) + 1).Select(i => from + i * step).ToList();
        var expectedHistory = reference.History(points);
        var actualHistory = await timeline.HistoryAsync(points, history);
        for (var i = 0; i < points.Count; i++)
        {
            Assert.True(Math.Abs(expectedHistory[i] - actualHistory[i]) <= Tolerance * Math.Max(1, expectedHistory[i]),
                $"{what}, history at {points[i]:O}: {actualHistory[i]}, expected {expectedHistory[i]}");
        }
    }

    [Theory]
    [InlineData(1, 300)]
    [InlineData(2, 1500)]
    [InlineData(3, 60)]
    [InlineData(4, 2500)]
    [InlineData(5, 700)]
    [InlineData(6, 1)]
    [InlineData(7, 1200)]
    [InlineData(8, 400)]
    public async Task Answers_equal_the_full_recomputation_at_every_stage(int seed, int count)
    {
        var random = new Random(seed);
        var scenario = RandomScenario(random, count);
        var timeline = new EntityTimeline("tesla", Table, SmallOptions(random));
        var history = new RecordedHistory();
        var store = new ChunkStore();
        var paged = seed % 2 == 0; // half the runs page their sealed intervals out to the store from the start
        if (paged)
        {
            timeline.PageTo(store);
        }

        var applied = new List<Contribution>();
        var checks = new SortedSet<int> { scenario.Arrivals.Count / 3, 2 * scenario.Arrivals.Count / 3, scenario.Arrivals.Count };
        var persistEvery = random.Next(20, 200);
        for (var i = 0; i < scenario.Arrivals.Count; i++)
        {
            var c = scenario.Arrivals[i];
            timeline.Add(c);
            history.Add(c);
            applied.Add(c);
            if (paged && (i + 1) % persistEvery == 0)
            {
                await store.PersistAsync(timeline);
            }

            if (checks.Contains(i + 1))
            {
                await CheckAsync(scenario, timeline, history, applied, random, $"seed {seed}, after {i + 1} of {scenario.Arrivals.Count}");

                // Persisted and restored (as a snapshot and its chunks would be), it answers alike and goes on alike.
                timeline = await RoundTripAsync(timeline, history, store, random);
                paged = true;
                await CheckAsync(scenario, timeline, history, applied, random, $"seed {seed}, restored after {i + 1}");
            }
        }

        // The comparison means something only if the paths were taken: sealed intervals, and the history read back.
        if (count >= 300)
        {
            Assert.True(timeline.IntervalCount > 0);
            Assert.True(history.Reads > 0, "no query read the history");
        }
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public async Task Paged_out_intervals_answer_exactly_and_take_late_events(int seed)
    {
        // Tens of chunks of sealed intervals, all but one page out of memory; then late events into paged-out
        // intervals (pending until their page is read back), queries, persistence and a restore.
        var random = new Random(seed);
        var options = new TimelineOptions { TailCapacity = 64, LateAllowance = TimeSpan.Zero, IntervalSize = 4, ExplainCapacity = 20, PagesInMemory = 1, HistoryChunksInMemory = 2, HistoryIntervalsInMemory = 4 };
        var timeline = new EntityTimeline("tesla", Table, options);
        var store = new ChunkStore();
        timeline.PageTo(store);
        var history = new RecordedHistory();
        var span = TimeSpan.FromDays(60);
        var own = Enumerable.Range(1, 12_000).Select(n => RandomEvent(random, "tesla", n, span)).ToList();
        var scenario = new Scenario(own, [], 1, [], span);
        var applied = new List<Contribution>();
        var inOrder = own.Where((_, i) => i % 6 != 0).OrderBy(e => e.OccurredAtTicks).Select(e => Contribution.OwnEvent(e, "tesla")).ToList();
        var late = own.Where((_, i) => i % 6 == 0).Select(e => Contribution.OwnEvent(e, "tesla")).ToList();
        foreach (var c in inOrder)
        {
            timeline.Add(c);
            history.Add(c);
            applied.Add(c);
            if (applied.Count % 500 == 0)
            {
                await store.PersistAsync(timeline);
                Assert.InRange(timeline.PagesInMemory, 0, 1 + 3); // one kept, and the unpersisted last chunk(s)
            }
        }

        await store.PersistAsync(timeline);
        Assert.True(timeline.IntervalCount > 30 * TimelineCodec.ChunkSize, $"{timeline.IntervalCount} intervals");
        await CheckAsync(scenario, timeline, history, applied, random, "paged, in order");
        Assert.True(store.Reads > 0, "no page was read back");

        // Late events: the rest, at random instants across the whole range, most into pages not in memory.
        foreach (var c in late)
        {
            timeline.Add(c);
            history.Add(c);
            applied.Add(c);
            if (applied.Count % 700 == 0)
            {
                await CheckAsync(scenario, timeline, history, applied, random, $"paged, {applied.Count} with late ones");
                await store.PersistAsync(timeline);
            }
        }

        await CheckAsync(scenario, timeline, history, applied, random, "paged, every late one in");
        await store.PersistAsync(timeline);
        var restored = TimelineCodec.Read(Table, options, TimelineCodec.WriteLive(timeline), store.All(timeline), store);
        await restored.RestoreTailAsync(history);
        Assert.Equal(0, restored.PagesInMemory);
        await CheckAsync(scenario, restored, history, applied, random, "paged, restored");
        Assert.InRange(restored.PagesInMemory, 0, 1);
    }

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    public async Task A_live_feed_read_between_its_batches_finds_the_peak_exactly_without_walking_the_tail_each_time(int seed)
    {
        // A live feed: batches of events a few seconds apart, each a few seconds late against the newest, now and then
        // one from much earlier; the score and its peak read after every batch, as dashboards poll.
        var random = new Random(seed);
        var options = new TimelineOptions
        {
            TailCapacity = random.Next(400, 900), LateAllowance = TimeSpan.FromMinutes(10), IntervalSize = random.Next(4, 32), ExplainCapacity = 20,
        };
        var timeline = new EntityTimeline("tesla", Table, options);
        var history = new RecordedHistory();
        var span = TimeSpan.FromHours(6);
        var events = Enumerable.Range(1, 3000).Select(n => RandomEvent(random, "tesla", n, span)).ToList();
        var arrivals = events.Select(e => Contribution.OwnEvent(e, "tesla"))
            .OrderBy(c => random.Next(50) == 0 ? c.Ticks + TimeSpan.FromHours(2).Ticks : c.Ticks + (long)(random.NextDouble() * TimeSpan.FromSeconds(20).Ticks))
            .ToList();
        var applied = new List<Contribution>();
        var reads = 0;
        for (var i = 0; i < arrivals.Count;)
        {
            for (var end = Math.Min(arrivals.Count, i + random.Next(1, 12)); i < end; i++)
            {
                timeline.Add(arrivals[i]);
                history.Add(arrivals[i]);
                applied.Add(arrivals[i]);
            }

            var now = Start + span + TimeSpan.FromHours(3);
            var reference = new ImpactView("tesla", LedgerOf(applied.Select(c => events[(int)c.Sequence - 1])), []);
            AssertSame(reference.Evaluate(now), await timeline.EvaluateAsync(now, history), $"seed {seed}, after {i} of {arrivals.Count}");
            reads++;
        }

        // Every read after a late event searched for the peak again; from the tail's start, that would walk about half
        // the tail each time (it holds from half its capacity to all of it once sealing has begun).
        Assert.True(timeline.IntervalCount > 0, "nothing was sealed");
        Assert.True(timeline.PeakSearchSteps < (long)reads * options.TailCapacity / 8,
            $"{timeline.PeakSearchSteps} contributions walked in {reads} reads with a tail of up to {options.TailCapacity}");
    }

    [Fact]
    public async Task In_order_events_keep_the_tail_bounded_and_need_no_history_for_the_present()
    {
        var random = new Random(11);
        var options = new TimelineOptions { TailCapacity = 128, LateAllowance = TimeSpan.Zero, IntervalSize = 16, ExplainCapacity = 20 };
        var timeline = new EntityTimeline("tesla", Table, options);
        var history = new RecordedHistory();
        var events = Enumerable.Range(1, 20_000).Select(n => RandomEvent(random, "tesla", n, TimeSpan.FromDays(30))).OrderBy(e => e.OccurredAtTicks).ToList();
        foreach (var e in events)
        {
            var c = Contribution.OwnEvent(e, "tesla");
            timeline.Add(c);
            history.Add(c);
        }

        Assert.InRange(timeline.Tail.Count, 1, 128);
        Assert.InRange(timeline.AllTop.Count, 1, 20 * EventTypes.Count);
        var now = events[^1].OccurredAt.AddMinutes(1);
        await timeline.EvaluateAsync(now, history);
        var reads = history.Reads; // at most one: the interval that holds the instant a day ago, for the trend
        Assert.InRange(reads, 0, 1);
        await timeline.EvaluateAsync(now.AddSeconds(1), history);
        await timeline.ExplainAsync(now, 20, history);
        Assert.Equal(reads, history.Reads); // the present, its peak and explanation come from memory

        var reference = new ImpactView("tesla", LedgerOf(events), []);
        AssertSame(reference.Evaluate(now), await timeline.EvaluateAsync(now, history), "present");
    }

    [Fact]
    public async Task A_snapshot_of_the_first_format_restores_the_same_rankings_as_the_current_one()
    {
        var random = new Random(5);
        var options = new TimelineOptions { TailCapacity = 128, LateAllowance = TimeSpan.Zero, IntervalSize = 16, ExplainCapacity = 20 };
        var timeline = new EntityTimeline("tesla", Table, options);
        var history = new RecordedHistory();
        var store = new ChunkStore();
        foreach (var e in Enumerable.Range(1, 3000).Select(n => RandomEvent(random, "tesla", n, TimeSpan.FromDays(30))).OrderBy(e => e.OccurredAtTicks))
        {
            var c = Contribution.OwnEvent(e, "tesla");
            timeline.Add(c);
            history.Add(c);
        }

        await store.PersistAsync(timeline);
        var current = TimelineCodec.WriteLive(timeline);
        Assert.Equal(current, TimelineCodec.WriteLive(timeline)); // the kept encoding of the sealed ranking gives the same bytes

        // The first format: version 1, the same header, then the ranking of all contributions before the sealed one.
        var sealedRanking = timeline.SealedTopEncoding!.Value.Bytes;
        byte[] first = [1, .. current.AsSpan(1, current.Length - 1 - sealedRanking.Length), .. TimelineCodec.EncodeContributions(timeline.AllTop.Members.ToList()), .. sealedRanking];
        static List<string> Ids(ContributionRanking ranking) => ranking.Members.Select(c => c.EventId).Order(StringComparer.Ordinal).ToList();
        var now = new DateTimeOffset(timeline.MaxTicks, TimeSpan.Zero).AddHours(1);
        var expected = (await timeline.ExplainAsync(now, 20, history)).Select(c => c.EventId).ToList();
        foreach (var live in new[] { current, first })
        {
            var restored = TimelineCodec.Read(Table, options, live, store.All(timeline), store);
            await restored.RestoreTailAsync(history);
            Assert.Equal(Ids(timeline.SealedTop), Ids(restored.SealedTop));
            Assert.Equal(Ids(timeline.AllTop), Ids(restored.AllTop));
            Assert.Equal(expected, (await restored.ExplainAsync(now, 20, history)).Select(c => c.EventId).ToList());
        }
    }

    private static async Task<EntityTimeline> RoundTripAsync(EntityTimeline timeline, RecordedHistory history, ChunkStore store, Random random)
    {
        await store.PersistAsync(timeline);
        var live = TimelineCodec.WriteLive(timeline);
        var restored = random.Next(2) == 0
            ? TimelineCodec.Read(Table, SmallOptions(random), live, store.All(timeline), store)
            : TimelineCodec.Read(Table, SmallOptions(random), live, store.All(timeline));
        restored.PageTo(store);
        await restored.RestoreTailAsync(history);
        Assert.Equal(timeline.Tail, restored.Tail);
        return restored;
    }

    private static EventLedger LedgerOf(IEnumerable<ScoredEvent> events)
    {
        var ledger = new EventLedger(Table);
        foreach (var e in events)
        {
            ledger.TryAdd(e);
        }

        return ledger;
    }
}
