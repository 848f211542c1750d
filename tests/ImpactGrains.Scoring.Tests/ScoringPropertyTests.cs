using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;

namespace ImpactGrains.Scoring.Tests;

/// <summary>The scoring properties the design promises, checked over seeded random event sets.</summary>
public sealed class ScoringPropertyTests
{
    private const double Tolerance = 1e-9;
    private static readonly ScoringModel Model = ScoringModel.Default;
    private static readonly DecayTable Table = new(Model);
    private static readonly ImpactCalculator Calculator = new(Model);
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] RegionCodes = ["US", "DE", "CN", "GLOBAL"];

    private static ImpactEvent RandomEvent(Random random, string entity, int n, TimeSpan span)
    {
        var type = (EventType)random.Next(EventTypes.Count);
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
        var at = Start + TimeSpan.FromTicks((long)(random.NextDouble() * span.Ticks));
        return new ImpactEvent($"{entity}-{n}", entity, type, at, RegionCodes[random.Next(RegionCodes.Length)], Math.Round(random.NextDouble(), 3), null, data);
    }

    private static List<ScoredEvent> RandomScored(Random random, string entity, int count, TimeSpan span) =>
        Enumerable.Range(1, count).Select(n => Calculator.Score(RandomEvent(random, entity, n, span), n)).ToList();

    private static EventLedger Ledger(IEnumerable<ScoredEvent> events)
    {
        var ledger = new EventLedger(Table);
        foreach (var e in events)
        {
            ledger.TryAdd(e);
        }

        return ledger;
    }

    private static ImpactView View(IEnumerable<ScoredEvent> own, IEnumerable<ScoredEvent> source, double weight) =>
        new("tesla", Ledger(own), [new InheritedSource("elon-musk", weight, Ledger(source))]);

    private static void AssertSame(ImpactBreakdown expected, ImpactBreakdown actual)
    {
        Assert.Equal(expected.Score, actual.Score, Tolerance);
        Assert.Equal(expected.Direct, actual.Direct, Tolerance);
        Assert.Equal(expected.Inherited, actual.Inherited, Tolerance);
        Assert.Equal(expected.Trend24h, actual.Trend24h, Tolerance);
        Assert.Equal(expected.Peak.Score, actual.Peak.Score, Tolerance);
        Assert.Equal(expected.Peak.At, actual.Peak.At);
        Assert.Equal(expected.EventCount, actual.EventCount);
        foreach (var category in EventTypes.Categories)
        {
            Assert.Equal(expected.Categories[category], actual.Categories[category], Tolerance);
        }

        Assert.Equal(expected.Regions.Keys.Order(), actual.Regions.Keys.Order());
        foreach (var (region, score) in expected.Regions)
        {
            Assert.Equal(score, actual.Regions[region], Tolerance);
        }
    }

    private static IEnumerable<DateTimeOffset> Instants(Random random, TimeSpan span) =>
        Enumerable.Range(0, 6).Select(_ => Start + TimeSpan.FromTicks((long)(random.NextDouble() * span.Ticks)))
            .Append(Start + span + TimeSpan.FromDays(1))
            .Append(Start - TimeSpan.FromDays(1));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void The_same_events_in_any_order_give_the_same_scores(int seed)
    {
        var random = new Random(seed);
        var span = TimeSpan.FromDays(40);
        var own = RandomScored(random, "tesla", 300, span);
        var source = RandomScored(random, "elon-musk", 100, span);
        var reference = View(own.OrderBy(e => e.OccurredAtTicks), source, 0.4);
        var shuffled = View(own.OrderBy(_ => random.Next()), source.OrderBy(_ => random.Next()), 0.4);
        var reversed = View(Enumerable.Reverse(own), Enumerable.Reverse(source), 0.4);

        foreach (var at in Instants(random, span))
        {
            var expected = reference.Evaluate(at);
            AssertSame(expected, shuffled.Evaluate(at));
            AssertSame(expected, reversed.Evaluate(at));
            Assert.Equal(
                reference.Explain(at, 10).Select(c => (c.EventId, c.Share)),
                shuffled.Explain(at, 10).Select(c => (c.EventId, c.Share)));
        }
    }

    [Fact]
    public void Arriving_in_batches_gives_the_same_scores_as_arriving_at_once()
    {
        var random = new Random(7);
        var events = RandomScored(random, "x", 500, TimeSpan.FromDays(10));
        var atOnce = Ledger(events);
        var batched = new EventLedger(Table);
        foreach (var chunk in events.OrderBy(_ => random.Next()).Chunk(37))
        {
            foreach (var e in chunk)
            {
                batched.TryAdd(e);
            }

            // Queries between batches must not disturb what follows.
            _ = new ImpactView("x", batched, []).Evaluate(Start + TimeSpan.FromDays(5));
        }

        var at = Start + TimeSpan.FromDays(11);
        AssertSame(new ImpactView("x", atOnce, []).Evaluate(at), new ImpactView("x", batched, []).Evaluate(at));
    }

    [Fact]
    public void A_duplicate_changes_nothing()
    {
        var random = new Random(11);
        var events = RandomScored(random, "x", 50, TimeSpan.FromDays(5));
        var ledger = Ledger(events);
        var at = Start + TimeSpan.FromDays(6);
        var before = new ImpactView("x", ledger, []).Evaluate(at);

        foreach (var e in events.Take(10))
        {
            Assert.False(ledger.TryAdd(e));
            Assert.False(ledger.TryAdd(e with { Impact = e.Impact * 10 })); // same id, different content: still a duplicate
        }

        Assert.Equal(50, ledger.Count);
        AssertSame(before, new ImpactView("x", ledger, []).Evaluate(at));
    }

    [Fact]
    public void A_bigger_outage_never_weighs_less()
    {
        var random = new Random(13);
        for (var i = 0; i < 5000; i++)
        {
            var baseline = random.Next(2) == 0 ? (long?)null : random.Next(0, 5000);
            var duration = random.Next(2) == 0 ? (double?)null : random.NextDouble() * 1000;
            var reports = (long)random.Next(0, 1_000_000);
            var more = reports + random.Next(0, 1_000_000);
            Assert.True(
                Calculator.Magnitude(new OutageData(more, baseline, duration)) >= Calculator.Magnitude(new OutageData(reports, baseline, duration)),
                $"{more} reports weighed less than {reports}");
        }
    }

    [Fact]
    public void A_lower_confidence_never_weighs_more()
    {
        var random = new Random(17);
        for (var i = 0; i < 5000; i++)
        {
            var e = RandomEvent(random, "x", i, TimeSpan.FromDays(1));
            var lower = e with { Confidence = e.Confidence * random.NextDouble() };
            Assert.True(Calculator.Impact(lower) <= Calculator.Impact(e));
        }
    }

    [Fact]
    public void Gains_add_no_impact()
    {
        Assert.Equal(0, Calculator.Magnitude(new SalesChangeData(12, null, null)));
        Assert.Equal(0, Calculator.Magnitude(new StockChangeData(0, null)));
        Assert.Equal(0, Calculator.Magnitude(new NetWorthChangeData(5e9, 3e11)));
        Assert.True(Calculator.Magnitude(new StockChangeData(-0.5, null)) > 0);
    }

    [Fact]
    public void Larger_drops_weigh_more()
    {
        Assert.True(Calculator.Magnitude(new SalesChangeData(-76, null, null)) > Calculator.Magnitude(new SalesChangeData(-49, null, null)));
        Assert.True(Calculator.Magnitude(new NetWorthChangeData(-132e9, 301e9)) > Calculator.Magnitude(new NetWorthChangeData(-32e9, 401e9)));
        Assert.True(Calculator.Magnitude(new ProtestData(null, 100)) > Calculator.Magnitude(new ProtestData(null, 10)));
        Assert.True(Calculator.Magnitude(new CyberattackData(false, null)) > Calculator.Magnitude(new CyberattackData(true, null)));
    }

    [Theory]
    [InlineData(19)]
    [InlineData(23)]
    public void Every_score_lies_in_0_to_100_and_the_peak_is_never_below_the_score(int seed)
    {
        var random = new Random(seed);
        var span = TimeSpan.FromDays(60);
        var own = RandomScored(random, "tesla", 400, span);
        // Huge impacts too, so that saturation is exercised.
        own.AddRange(Enumerable.Range(1000, 20).Select(n => new ScoredEvent($"big-{n}", n, EventType.SalesChange,
            (Start + TimeSpan.FromDays(random.Next(60))).UtcTicks, "US", 1e6)));
        var view = View(own, RandomScored(random, "elon-musk", 100, span), 1.0);

        foreach (var at in Instants(random, span).Concat(Enumerable.Range(0, 30).Select(d => Start + TimeSpan.FromDays(d * 2))))
        {
            var b = view.Evaluate(at);
            foreach (var score in new[] { b.Score, b.Direct, b.Inherited, b.Peak.Score }.Concat(b.Categories.Values).Concat(b.Regions.Values))
            {
                Assert.InRange(score, 0, 100);
            }

            Assert.True(b.Peak.Score >= b.Score, $"peak {b.Peak.Score} < score {b.Score} at {at}");
            Assert.InRange(b.Trend24h, -100, 100);
        }
    }

    [Theory]
    [InlineData(EventType.Outage)]
    [InlineData(EventType.SalesChange)]
    [InlineData(EventType.Statement)]
    public void The_half_life_holds(EventType type)
    {
        var halfLife = Model.Types[type].HalfLife;
        var e = new ScoredEvent("e", 1, type, Start.UtcTicks, "US", 3.0);
        var view = new ImpactView("x", Ledger([e]), []);

        Assert.Equal(Table.ToScore(3.0), view.Evaluate(Start).Score, Tolerance);
        Assert.Equal(Table.ToScore(1.5), view.Evaluate(Start + halfLife).Score, Tolerance);
        Assert.Equal(Table.ToScore(0.75), view.Evaluate(Start + 2 * halfLife).Score, Tolerance);
    }

    [Fact]
    public void The_forward_decayed_sums_agree_with_a_direct_sum_across_years()
    {
        // Three years of hourly-decaying events: the landmark is re-based many times.
        var random = new Random(29);
        var events = RandomScored(random, "x", 2000, TimeSpan.FromDays(3 * 365));
        var ledger = Ledger(events.OrderBy(_ => random.Next()));
        var at = new DateTimeOffset(ledger.MaxTicks, TimeSpan.Zero) + TimeSpan.FromHours(1);

        foreach (var type in EventTypes.All)
        {
            var direct = events.Where(e => e.Type == type).Sum(e => e.Impact * Table.DecayFactor(type, at.UtcTicks - e.OccurredAtTicks));
            Assert.Equal(direct, ledger.Totals.ValueAt(type, at.UtcTicks), Math.Max(1e-9, direct * 1e-9));
        }
    }

    [Fact]
    public void As_of_an_instant_only_the_events_up_to_it_count()
    {
        var early = new ScoredEvent("early", 1, EventType.StockChange, Start.UtcTicks, "US", 2.0);
        var late = new ScoredEvent("late", 2, EventType.StockChange, (Start + TimeSpan.FromDays(2)).UtcTicks, "DE", 5.0);
        var view = new ImpactView("tesla", Ledger([early, late]), []);

        var between = view.Evaluate(Start + TimeSpan.FromDays(1));
        var halfLifeDays = Model.Types[EventType.StockChange].HalfLife.TotalDays;
        Assert.Equal(Table.ToScore(2.0 * Math.Pow(2, -1 / halfLifeDays)), between.Score, Tolerance);
        Assert.Equal(1, between.EventCount);
        Assert.Equal(["US"], between.Regions.Keys);
        Assert.Equal(0, view.Evaluate(Start - TimeSpan.FromSeconds(1)).Score);
        Assert.Equal(2, view.Evaluate(Start + TimeSpan.FromDays(3)).EventCount);
    }

    [Fact]
    public void Inherited_impact_flows_in_at_the_link_weight()
    {
        var musk = new ScoredEvent("nw", 1, EventType.NetWorthChange, Start.UtcTicks, "GLOBAL", 4.0);
        var view = new ImpactView("tesla", new EventLedger(Table), [new InheritedSource("elon-musk", 0.25, Ledger([musk]))]);
        var b = view.Evaluate(Start);

        Assert.Equal(0, b.Direct);
        Assert.Equal(Table.ToScore(1.0), b.Inherited, Tolerance);
        Assert.Equal(b.Inherited, b.Score, Tolerance);
        Assert.Equal(b.Score, b.Categories[EventCategory.Financial], Tolerance);
        var explained = Assert.Single(view.Explain(Start, 10));
        Assert.Equal(("nw", "elon-musk", 1.0), (explained.EventId, explained.Entity, explained.Share));
    }

    [Fact]
    public void The_peak_is_the_highest_score_so_far_and_when()
    {
        var first = new ScoredEvent("a", 1, EventType.Outage, Start.UtcTicks, "US", 5.0);
        var second = new ScoredEvent("b", 2, EventType.Outage, (Start + TimeSpan.FromDays(3)).UtcTicks, "US", 1.0);
        var view = new ImpactView("x", Ledger([first, second]), []);

        var b = view.Evaluate(Start + TimeSpan.FromDays(4));
        Assert.Equal(Table.ToScore(5.0), b.Peak.Score, Tolerance);
        Assert.Equal(Start, b.Peak.At);
        Assert.True(b.Score < b.Peak.Score);
        Assert.Equal(new Peak(0, null), view.PeakAsOf((Start - TimeSpan.FromDays(1)).UtcTicks));
    }

    [Fact]
    public void Trend24h_is_the_score_minus_the_score_a_day_earlier()
    {
        var e = new ScoredEvent("a", 1, EventType.SalesChange, Start.UtcTicks, "CN", 5.0);
        var view = new ImpactView("tesla", Ledger([e]), []);
        var at = Start + TimeSpan.FromHours(12);
        Assert.Equal(view.Evaluate(at).Score, view.Evaluate(at).Trend24h, Tolerance); // nothing a day earlier

        var later = Start + TimeSpan.FromDays(10);
        Assert.Equal(view.Evaluate(later).Score - view.Evaluate(later - TimeSpan.FromDays(1)).Score, view.Evaluate(later).Trend24h, Tolerance);
        Assert.True(view.Evaluate(later).Trend24h < 0);
    }

    [Theory]
    [InlineData(31)]
    [InlineData(37)]
    public void Explain_lists_the_largest_contributions_first_with_shares_that_sum_to_at_most_one(int seed)
    {
        var random = new Random(seed);
        var span = TimeSpan.FromDays(20);
        var view = View(RandomScored(random, "tesla", 200, span), RandomScored(random, "elon-musk", 50, span), 0.5);
        var at = Start + span;
        var score = view.Evaluate(at).Score;

        var all = view.Explain(at, 1000);
        Assert.All(all, c => Assert.InRange(c.Share, 0, 1));
        Assert.True(all.Sum(c => c.Share) <= 1);
        Assert.Equal(1, all.Sum(c => c.Share), 1e-9);
        Assert.Equal(score, all.Sum(c => c.Contribution), 1e-6);
        Assert.Equal(all.Select(c => c.Share).OrderByDescending(s => s), all.Select(c => c.Share));

        var top = view.Explain(at, 5);
        Assert.Equal(all.Take(5).Select(c => c.EventId), top.Select(c => c.EventId));
        Assert.Contains(all, c => c.Entity == "elon-musk");
    }

    [Fact]
    public void History_matches_the_score_at_each_point()
    {
        var random = new Random(41);
        var span = TimeSpan.FromDays(15);
        var view = View(RandomScored(random, "tesla", 150, span), RandomScored(random, "elon-musk", 40, span), 0.3);
        var points = Enumerable.Range(-2, 40).Select(i => Start + TimeSpan.FromHours(i * 10)).ToList();
        var history = view.History(points);
        for (var i = 0; i < points.Count; i++)
        {
            Assert.Equal(view.Evaluate(points[i]).Score, history[i], 1e-9);
        }
    }
}

public sealed class ScoringModelTests
{
    [Fact]
    public void The_identity_changes_with_any_parameter_and_only_then()
    {
        var model = ScoringModel.Default;
        Assert.Equal(model.Identity, (model with { }).Identity);
        Assert.StartsWith("v1#", model.Identity);
        Assert.NotEqual(model.Identity, (model with { Kappa = 11 }).Identity);
        Assert.NotEqual(model.Identity, (model with { StockDropScale = 6 }).Identity);
        var types = model.Types.ToDictionary(t => t.Key, t => t.Value);
        types[EventType.Outage] = types[EventType.Outage] with { HalfLife = TimeSpan.FromHours(6) };
        Assert.NotEqual(model.Identity, (model with { Types = types }).Identity);
    }

    [Fact]
    public void The_default_model_is_valid_and_a_broken_one_says_what_is_wrong()
    {
        Assert.Empty(ScoringModel.Default.Validate());
        var problems = (ScoringModel.Default with { Kappa = 0, Version = "" }).Validate();
        Assert.Contains(problems, p => p.StartsWith("Kappa"));
        Assert.Contains(problems, p => p.StartsWith("Version"));
    }
}
