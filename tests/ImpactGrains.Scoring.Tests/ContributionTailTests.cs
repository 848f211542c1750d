using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Timeline;

namespace ImpactGrains.Scoring.Tests;

public sealed class ContributionTailTests
{
    private static Contribution At(long ticks, int sequence) =>
        new($"e{sequence}", "x", sequence, EventType.Outage, ticks, "GLOBAL", 1, Own: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Keeps_time_order_through_inserts_and_removals_from_the_front_as_a_sorted_list_does(int seed)
    {
        var random = new Random(seed);
        var tail = new ContributionTail();
        var reference = new List<Contribution>();
        var clock = 1_000_000L;
        for (var step = 0; step < 20_000; step++)
        {
            if (random.Next(10) < 7 || reference.Count == 0)
            {
                // Mostly the latest; sometimes a little late, as concurrent requests deliver them.
                clock += random.Next(0, 3);
                var c = At(random.Next(8) == 0 ? clock - random.Next(0, 50) : clock, step);
                tail.Insert(c);
                var index = reference.BinarySearch(c, Contribution.TimeOrder);
                reference.Insert(index < 0 ? ~index : index, c);
            }
            else
            {
                var n = random.Next(0, Math.Min(reference.Count, 3000) + 1);
                tail.RemoveFirst(n);
                reference.RemoveRange(0, n);
            }

            if (step % 997 == 0)
            {
                Assert.Equal(reference, tail);
                Assert.Equal(reference.Count, tail.Count);
                if (reference.Count > 0)
                {
                    Assert.Equal(reference[^1], tail.Last);
                    var k = random.Next(reference.Count);
                    Assert.Equal(reference[k], tail[k]);
                    var ticks = reference[k].Ticks + random.Next(-2, 2);
                    Assert.Equal(reference.FindIndex(c => c.Ticks > ticks) is var first and >= 0 ? first : reference.Count, tail.FirstAfter(ticks));
                }
            }
        }

        Assert.Equal(reference, tail);
        Assert.Throws<ArgumentOutOfRangeException>(() => tail.RemoveFirst(tail.Count + 1));
        tail.RemoveFirst(tail.Count);
        Assert.Empty(tail);
    }
}
