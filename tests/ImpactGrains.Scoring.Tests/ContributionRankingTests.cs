using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Timeline;

namespace ImpactGrains.Scoring.Tests;

public sealed class ContributionRankingTests
{
    private static readonly DecayTable Table = new(ScoringModel.Default);
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static List<Contribution> RandomContributions(Random random, int count, TimeSpan span) =>
        Enumerable.Range(0, count).Select(i => new Contribution(
            $"e{i}", "x", i + 1, (EventType)random.Next(EventTypes.Count),
            (Start + TimeSpan.FromTicks((long)(random.NextDouble() * span.Ticks))).UtcTicks, "GLOBAL",
            Math.Exp(random.NextDouble() * 8 - 4), Own: true)).ToList();

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 1)]
    [InlineData(3, 25)]
    [InlineData(4, 200)]
    public void The_largest_contributions_at_any_later_instant_are_among_the_candidates(int seed, int k)
    {
        var random = new Random(seed);
        var span = TimeSpan.FromDays(60);
        var all = RandomContributions(random, 3000, span);
        var ranking = new ContributionRanking(Table, capacity: 200);
        foreach (var c in all)
        {
            ranking.Add(c);
        }

        var candidates = ranking.TopCandidates(k);
        var ids = candidates.Select(c => c.EventId).ToHashSet();
        Assert.Equal(candidates.Count, ids.Count);
        // At most k of each type, and exactly k of each type that has more (random values leave no ties).
        Assert.True(candidates.Count <= k * EventTypes.Count, $"{candidates.Count} candidates for k = {k}");
        foreach (var group in all.GroupBy(c => c.Type))
        {
            Assert.Equal(Math.Min(k, group.Count()), candidates.Count(c => c.Type == group.Key));
        }

        foreach (var later in new[] { TimeSpan.Zero, TimeSpan.FromHours(1), TimeSpan.FromDays(3), TimeSpan.FromDays(40) })
        {
            var at = (Start + span + later).UtcTicks;
            // The brute force over every contribution ever added, in the explanation's order.
            var expected = all
                .Select(c => (c.EventId, Value: c.Value * Table.DecayFactor(c.Type, at - c.Ticks), c.Ticks))
                .Where(x => x.Value > 0)
                .OrderByDescending(x => x.Value).ThenByDescending(x => x.Ticks).ThenBy(x => x.EventId, StringComparer.Ordinal)
                .Take(k)
                .Select(x => x.EventId);
            Assert.All(expected, id => Assert.Contains(id, ids));
        }
    }

    [Fact]
    public void Ties_at_the_kth_place_are_all_candidates()
    {
        var ranking = new ContributionRanking(Table, capacity: 50);
        var at = Start.UtcTicks;
        for (var i = 0; i < 30; i++)
        {
            // Thirty outages of one value at one instant: any of them may be among the top 5 (the id decides).
            ranking.Add(new Contribution($"e{i:D2}", "x", i + 1, EventType.Outage, at, "GLOBAL", 2.0, Own: true));
        }

        Assert.Equal(30, ranking.TopCandidates(5).Count);
        Assert.Empty(ranking.TopCandidates(0));
    }
}
