using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Ranking;

namespace ImpactGrains.Scoring.Tests;

public sealed class RankingsTests
{
    private static readonly DecayTable Table = new(ScoringModel.Default);

    /// <summary>Candidates keeps its own top k per board (a bounded heap); it must pick exactly Top's members.</summary>
    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 40)]
    [InlineData(3, 300)]
    public void Candidates_are_the_union_of_the_top_k_of_every_board(int seed, int count)
    {
        var random = new Random(seed);
        var now = new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        string[] regions = ["US", "DE", "FR", "GLOBAL"];
        var standings = Enumerable.Range(0, count).Select(i =>
        {
            var direct = new double[EventTypes.Count];
            var inherited = new double[EventTypes.Count];
            var byRegion = new Dictionary<string, double[]>(StringComparer.Ordinal);
            for (var t = 0; t < EventTypes.Count; t++)
            {
                // Some exact ties, some zeros, so that tie-breaking and the positive-score filter are exercised.
                direct[t] = random.Next(4) == 0 ? 0 : random.Next(1, 6);
                inherited[t] = random.Next(3) == 0 ? random.NextDouble() : 0;
                var region = regions[random.Next(regions.Length)];
                if (!byRegion.TryGetValue(region, out var vector))
                {
                    byRegion[region] = vector = new double[EventTypes.Count];
                }

                vector[t] += direct[t] + inherited[t];
            }

            var at = now - TimeSpan.TicksPerMinute * random.Next(0, 600);
            return new Standing($"e{i:D4}", $"E{i}", (EntityKind)random.Next(4), new ImpactVector(at, direct, inherited, byRegion));
        }).ToList();

        const int k = 7;
        var expected = Rankings.BoardsFor(standings)
            .SelectMany(board => Rankings.Top(standings, board, now, Table, k))
            .Select(r => r.Standing.Entity)
            .ToHashSet();
        var actual = Rankings.Candidates(standings, now, Table, k).Select(s => s.Entity).ToHashSet();
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
    }
}
