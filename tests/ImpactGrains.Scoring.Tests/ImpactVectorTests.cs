using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Timeline;

namespace ImpactGrains.Scoring.Tests;

/// <summary>
/// The allocation-free paths of the hot loop must give the very same doubles as the definitions they replace: a live
/// score message or a standing that differed in the last bit from /impact would be a different number.
/// </summary>
public sealed class ImpactVectorTests
{
    private static readonly DecayTable Table = new(ScoringModel.Default);
    private static readonly string[] RegionCodes = ["US", "DE", "CN", "GLOBAL"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Scores_at_a_later_instant_are_exactly_those_of_the_decayed_vector(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 200; round++)
        {
            var vector = RandomVector(random, out var at);
            var later = at + (long)(random.NextDouble() * TimeSpan.FromDays(60).Ticks) * (round % 5 == 0 ? 0 : 1);

            var scores = vector.ScoresAt(later, Table);

            var decayed = vector.DecayTo(later, Table);
            Assert.Equal(Table.ToScore(decayed.Total), scores.Score);
            Assert.Equal(Table.ToScore(decayed.DirectTotal), scores.Direct);
            Assert.Equal(Table.ToScore(decayed.InheritedTotal), scores.Inherited);
            Assert.Equal(EventTypes.Categories.ToDictionary(c => c.WireName(), c => Table.ToScore(decayed.Category(c))), scores.Categories);
            Assert.Equal(decayed.Regions.ToDictionary(r => r.Key, r => Table.ToScore(r.Value.Sum())), scores.Regions);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_vector_decayed_while_copied_is_exactly_the_copy_decayed(int seed)
    {
        var random = new Random(seed);
        Span<double> factors = stackalloc double[ImpactValues.Types];
        for (var round = 0; round < 200; round++)
        {
            var regions = new RegionTable();
            var regionCount = random.Next(0, RegionCodes.Length + 1);
            foreach (var code in RegionCodes.Take(regionCount))
            {
                regions.IndexOf(code);
            }

            // Arrays may be shorter than the table (regions added since), and some regions decay to nothing.
            var values = new double[ImpactValues.Length(random.Next(0, regionCount + 1))];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = random.Next(3) == 0 ? 0 : random.NextDouble() * 50;
            }

            ImpactValues.Factors(Table, (long)(random.NextDouble() * TimeSpan.FromDays(30).Ticks), factors);

            var direct = ImpactValues.ToVector(values, factors, 42, regions);

            var copy = (double[])values.Clone();
            ImpactValues.Decay(copy, factors);
            var expected = ImpactValues.ToVector(copy, 42, regions);
            Assert.Equal(expected.AtTicks, direct.AtTicks);
            Assert.Equal(expected.Direct, direct.Direct);
            Assert.Equal(expected.Inherited, direct.Inherited);
            Assert.Equal(expected.Regions.Keys.Order(), direct.Regions.Keys.Order());
            foreach (var (region, regional) in expected.Regions)
            {
                Assert.Equal(regional, direct.Regions[region]);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_late_contribution_added_in_place_is_exactly_a_one_contribution_state_added(int seed)
    {
        var random = new Random(seed);
        var start = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        for (var round = 0; round < 100; round++)
        {
            var inPlace = new ImpactState();
            var reference = new ImpactState();
            var latest = start;
            for (var i = 0; i < 50; i++)
            {
                var type = EventTypes.All[random.Next(EventTypes.Count)];
                var ticks = start + random.Next(0, 100_000) * TimeSpan.TicksPerSecond;
                var c = new Contribution($"e{i}", "x", i + 1, type, ticks, RegionCodes[random.Next(RegionCodes.Length)], random.NextDouble() * 30, random.Next(4) != 0);
                var region = random.Next(0, 6);
                if (ticks >= latest)
                {
                    latest = ticks;
                    foreach (var state in new[] { inPlace, reference })
                    {
                        state.AdvanceTo(ticks, Table);
                        state.Add(c, region, Table, trackPeak: false);
                    }
                }
                else
                {
                    inPlace.AddDecayed(c, region, Table);

                    // The definition: a state holding only this contribution, added decayed.
                    var only = new double[ImpactValues.Length(region + 1)];
                    ImpactValues.Add(ref only, c, region);
                    reference.AddDecayed(only, c.Ticks, c.Own ? 1 : 0, Table);
                }
            }

            Assert.Equal(reference.Values, inPlace.Values);
            Assert.Equal(reference.OwnCount, inPlace.OwnCount);
        }
    }

    private static ImpactVector RandomVector(Random random, out long at)
    {
        at = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks + random.Next(0, 1_000_000) * TimeSpan.TicksPerSecond;
        var direct = new double[EventTypes.Count];
        var inherited = new double[EventTypes.Count];
        var byRegion = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (var t = 0; t < EventTypes.Count; t++)
        {
            direct[t] = random.Next(4) == 0 ? 0 : random.NextDouble() * 80;
            inherited[t] = random.Next(3) == 0 ? random.NextDouble() * 10 : 0;
            var region = RegionCodes[random.Next(RegionCodes.Length)];
            if (!byRegion.TryGetValue(region, out var regional))
            {
                byRegion[region] = regional = new double[EventTypes.Count];
            }

            regional[t] += direct[t] + inherited[t];
        }

        return new ImpactVector(at, direct, inherited, byRegion);
    }
}
