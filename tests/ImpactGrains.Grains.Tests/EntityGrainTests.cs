using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Storage;

namespace ImpactGrains.Grains.Tests;

public sealed class EntityGrainTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private const double Tolerance = 1e-9;

    private static List<ImpactEvent> Events(string entity, int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i => new ImpactEvent(
            $"{entity}-{seed}-{i}", entity,
            i % 2 == 0 ? EventType.Outage : EventType.StockChange,
            Start + TimeSpan.FromHours(random.Next(0, 24 * 10)),
            i % 3 == 0 ? "US" : "DE", 0.5 + random.NextDouble() / 2, null,
            i % 2 == 0 ? new OutageData(random.Next(100, 50_000), 500, null) : new StockChangeData(-random.Next(1, 30), null))).ToList();
    }

    private static ImpactBreakdown Expected(IEnumerable<ScoredEvent> own, DateTimeOffset at, params InheritedSource[] sources)
    {
        var ledger = new EventLedger(ClusterFixture.Table);
        foreach (var e in own)
        {
            ledger.TryAdd(e);
        }

        return new ImpactView("e", ledger, sources).Evaluate(at);
    }

    [Fact]
    public async Task Entity_grains_on_both_silos_answer_with_the_scores_of_their_events()
    {
        var ids = Enumerable.Range(0, 24).Select(i => $"spread-{i}").ToArray();
        await fixture.RegisterAsync(ids);
        await fixture.SpreadAsync(ids);
        var scoredById = new Dictionary<string, IReadOnlyList<ScoredEvent>>();
        foreach (var (id, n) in ids.Select((id, n) => (id, n)))
        {
            scoredById[id] = await fixture.IngestAsync(Events(id, 12, n));
        }

        var at = Start + TimeSpan.FromDays(11);
        foreach (var id in ids)
        {
            var report = await fixture.Client.GetGrain<IEntityGrain>(id).GetImpactAsync(at);
            var expected = Expected(scoredById[id], at);
            Assert.Equal(expected.Score, report.Score, Tolerance);
            Assert.Equal(expected.Peak.Score, report.Peak.Score, Tolerance);
            Assert.Equal(12, report.EventCount);
            Assert.Equal(ClusterFixture.Model.Version, report.ModelVersion);
        }

        var silos = (await fixture.PlacementAsync()).Where(p => ids.Contains(p.Key)).Select(p => p.Value).Distinct().Count();
        Assert.Equal(2, silos);
    }

    [Fact]
    public async Task A_redelivered_batch_counts_once_and_a_gap_is_filled_from_the_log()
    {
        await fixture.RegisterAsync("gappy");
        var events = Events("gappy", 6, 99);
        var outcomes = (await fixture.Log.AppendAsync(events)).Outcomes;
        var scored = events.Select((e, i) => ClusterFixture.Calculator.Score(e, outcomes[i].EntitySequence)).ToList();
        var grain = fixture.Client.GetGrain<IEntityGrain>("gappy");

        // Only events 5 and 6 arrive; 1–4 were "lost" and must come from the log.
        await grain.ApplyAsync(new EntityEventBatch(scored.Skip(4).ToList()));
        await grain.ApplyAsync(new EntityEventBatch(scored.Skip(4).ToList()));
        await grain.ApplyAsync(new EntityEventBatch(scored));

        var at = Start + TimeSpan.FromDays(11);
        var report = await grain.GetImpactAsync(at);
        Assert.Equal(6, report.EventCount);
        Assert.Equal(Expected(scored, at).Score, report.Score, Tolerance);
        var direct = await grain.GetDirectEventsAsync(0);
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), direct.Events.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Linked_entities_inherit_each_others_direct_impact_without_deadlock()
    {
        await fixture.RegisterAsync("musk", "tesla-co");
        await fixture.Catalog.UpsertLinkAsync(new LinkRecord("musk", "tesla-co", 0.5, "ceo"));
        await fixture.Catalog.UpsertLinkAsync(new LinkRecord("tesla-co", "musk", 0.25, "leads"));
        await fixture.Client.GetGrain<IEntityGrain>("musk").ReloadAsync();
        await fixture.Client.GetGrain<IEntityGrain>("tesla-co").ReloadAsync();

        var muskEvents = await fixture.IngestAsync(Events("musk", 5, 1));
        var teslaEvents = await fixture.IngestAsync(Events("tesla-co", 7, 2));
        var at = Start + TimeSpan.FromDays(12);

        // Both at once: each pulls from the other while being asked.
        var reports = await Task.WhenAll(
            Enumerable.Range(0, 20).Select(i => fixture.Client.GetGrain<IEntityGrain>(i % 2 == 0 ? "musk" : "tesla-co").GetImpactAsync(at)));

        var muskLedger = new EventLedger(ClusterFixture.Table);
        muskEvents.ToList().ForEach(e => muskLedger.TryAdd(e));
        var teslaLedger = new EventLedger(ClusterFixture.Table);
        teslaEvents.ToList().ForEach(e => teslaLedger.TryAdd(e));
        var expectedTesla = Expected(teslaEvents, at, new InheritedSource("musk", 0.5, muskLedger));
        var expectedMusk = Expected(muskEvents, at, new InheritedSource("tesla-co", 0.25, teslaLedger));

        Assert.All(reports.Where(r => r.Entity == "tesla-co"), r =>
        {
            Assert.Equal(expectedTesla.Score, r.Score, Tolerance);
            Assert.Equal(expectedTesla.Inherited, r.Inherited, Tolerance);
        });
        Assert.All(reports.Where(r => r.Entity == "musk"), r => Assert.Equal(expectedMusk.Score, r.Score, Tolerance));

        // A new event on Musk shows up in Tesla's inherited impact at the next query.
        var before = (await fixture.Client.GetGrain<IEntityGrain>("tesla-co").GetImpactAsync(at)).Inherited;
        await fixture.IngestAsync([new ImpactEvent("musk-extra", "musk", EventType.NetWorthChange, Start + TimeSpan.FromDays(11), "GLOBAL", 1, null, new NetWorthChangeData(-5e10, 2e11))]);
        var explained = await fixture.Client.GetGrain<IEntityGrain>("tesla-co").ExplainAsync(at, 50);
        Assert.True((await fixture.Client.GetGrain<IEntityGrain>("tesla-co").GetImpactAsync(at)).Inherited > before);
        Assert.Contains(explained.Contributions, c => c.EventId == "musk-extra" && c.Entity == "musk");

        // Removing the link removes the inherited impact.
        await fixture.Catalog.DeleteLinkAsync("musk", "tesla-co");
        await fixture.Client.GetGrain<IEntityGrain>("tesla-co").ReloadAsync();
        Assert.Equal(0, (await fixture.Client.GetGrain<IEntityGrain>("tesla-co").GetImpactAsync(at)).Inherited);
    }

    [Fact]
    public async Task A_reactivated_grain_recovers_the_same_scores_from_its_snapshot_and_the_log()
    {
        await fixture.RegisterAsync("restarted");
        var scored = new List<ScoredEvent>();
        var all = Events("restarted", 23, 5);
        foreach (var chunk in all.Chunk(4))
        {
            scored.AddRange(await fixture.IngestAsync(chunk));
        }

        var grain = fixture.Client.GetGrain<IEntityGrain>("restarted");
        var at = Start + TimeSpan.FromDays(11);
        var before = await grain.GetImpactAsync(at);
        var history = await grain.GetHistoryAsync(Enumerable.Range(0, 12).Select(d => Start + TimeSpan.FromDays(d)).ToList());

        await fixture.Cluster.DeactivateAsync(grain);

        var after = await grain.GetImpactAsync(at);
        Assert.Equal(before.Score, after.Score, Tolerance);
        Assert.Equal(before.Peak, after.Peak);
        Assert.Equal(23, after.EventCount);
        Assert.Equal(history.Points.Select(p => p.Score), (await grain.GetHistoryAsync(history.Points.Select(p => p.At).ToList())).Points.Select(p => p.Score));
    }

    [Theory]
    [InlineData("long-history", false)]
    [InlineData("long-history-paged-late", true)]
    public async Task A_long_history_in_any_order_answers_like_the_full_recomputation_before_and_after_reactivation(string entity, bool lateAfterPagedOut)
    {
        await fixture.RegisterAsync(entity);
        var events = Events(entity, 1200, 9);
        if (lateAfterPagedOut)
        {
            // In time order first, so that sealed intervals are persisted and their pages leave memory (one stays);
            // then late events all over the range, most into pages that are out: pending until read back or written.
            events = events.Take(1000).OrderBy(e => e.OccurredAt).Concat(events.Skip(1000)).ToList();
        }

        var scored = new List<ScoredEvent>();
        foreach (var chunk in events.Chunk(100))
        {
            scored.AddRange(await fixture.IngestAsync(chunk));
        }

        var grain = fixture.Client.GetGrain<IEntityGrain>(entity);
        var ledger = new EventLedger(ClusterFixture.Table);
        scored.ForEach(e => ledger.TryAdd(e));
        var reference = new ImpactView(entity, ledger, []);
        var instants = new[] { Start + TimeSpan.FromDays(2.3), Start + TimeSpan.FromDays(7.9), Start + TimeSpan.FromDays(12) };
        var points = Enumerable.Range(0, 60).Select(h => Start + TimeSpan.FromHours(4 * h)).ToList();

        async Task CheckAsync(string when)
        {
            foreach (var at in instants)
            {
                var expected = reference.Evaluate(at);
                var actual = await grain.GetImpactAsync(at);
                Assert.True(Math.Abs(expected.Score - actual.Score) <= Tolerance, $"{when}: score at {at:O}");
                Assert.True(Math.Abs(expected.Peak.Score - actual.Peak.Score) <= Tolerance, $"{when}: peak at {at:O}");
                Assert.Equal(expected.Trend24h, actual.Trend24h, Tolerance);
                Assert.Equal(expected.EventCount, actual.EventCount);
                Assert.Equal(reference.Explain(at, 25).Select(c => c.EventId), (await grain.ExplainAsync(at, 25)).Contributions.Select(c => c.EventId));
            }

            var history = (await grain.GetHistoryAsync(points)).Points.Select(p => p.Score).ToList();
            var expectedHistory = reference.History(points);
            for (var i = 0; i < points.Count; i++)
            {
                Assert.True(Math.Abs(expectedHistory[i] - history[i]) <= Tolerance, $"{when}: history at {points[i]:O}");
            }
        }

        await CheckAsync("active");
        await fixture.Cluster.DeactivateAsync(grain);
        await CheckAsync("reactivated from its snapshot, its chunks and the log");
    }
}
