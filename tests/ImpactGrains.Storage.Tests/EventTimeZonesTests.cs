using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage.Sqlite;

namespace ImpactGrains.Storage.Tests;

/// <summary>The embedded log's time map: zones and the merge of their events into time order.</summary>
public sealed class EventTimeZonesTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 10, 14, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Zones_hold_runs_of_256_sequence_numbers()
    {
        Assert.Equal(0, EventTimeZones.ZoneOf(1));
        Assert.Equal(0, EventTimeZones.ZoneOf(255));
        Assert.Equal(1, EventTimeZones.ZoneOf(256));
        Assert.Equal(256, EventTimeZones.FirstSequence(1));
        Assert.Equal(511, EventTimeZones.LastSequence(1));
    }

    [Fact]
    public void A_commit_keeps_one_range_per_entity_and_zone()
    {
        var zones = new EventTimeZones();
        zones.Add("a", 1, 50);
        zones.Add("a", 2, 10);
        zones.Add("a", 300, 70);
        zones.Add("b", 3, 20);
        Assert.Equal(
            [("a", 0L, 10L, 50L), ("a", 1L, 70L, 70L), ("b", 0L, 20L, 20L)],
            zones.Drain().OrderBy(z => z.Entity).ThenBy(z => z.Zone));
        Assert.Empty(zones.Drain());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_cache_finds_exactly_the_zones_that_meet_an_interval_across_blocks_and_widened_zones(bool descending)
    {
        // 20 blocks of zones, mostly in time order, some widened by late events (in the load and in later commits).
        var random = new Random(7);
        var zoneCount = TimeMapCache.ZonesPerBlock * 20 + 5;
        var truth = new (long Min, long Max)[zoneCount];
        for (var z = 0; z < zoneCount; z++)
        {
            var min = z * 1_000L + random.Next(0, 500);
            truth[z] = (min, min + random.Next(0, 1_500));
            if (random.Next(50) == 0)
            {
                truth[z].Min -= random.Next(0, 200_000); // a late event, far back
            }
        }

        var cache = new TimeMapCache();
        var lastSequence = EventTimeZones.LastSequence(zoneCount - 1);
        Task<(List<(long Zone, long Min, long Max)>, long)> Load() =>
            Task.FromResult((truth.Select((t, z) => ((long)z, t.Min, t.Max)).ToList(), lastSequence));
        await cache.FindAsync("e", descending, 0, 1, lastSequence, Load); // keeps the map

        // Later commits widen some zones into other blocks' times.
        var widened = new List<(string, long, long, long)>();
        for (var i = 0; i < 30; i++)
        {
            var z = random.Next(zoneCount);
            var late = random.Next(0, zoneCount * 1_000);
            truth[z] = (Math.Min(truth[z].Min, late), Math.Max(truth[z].Max, late));
            widened.Add(("e", z, late, late));
        }

        cache.Committed(widened, new Dictionary<string, long> { ["e"] = lastSequence });
        for (var query = 0; query < 300; query++)
        {
            var after = random.Next(-250_000, zoneCount * 1_000);
            var through = after + random.Next(1, query % 3 == 0 ? 200 : 60_000);
            var (found, covered) = await cache.FindAsync("e", descending, after, through, lastSequence, Load);
            var expected = Enumerable.Range(0, zoneCount)
                .Where(z => truth[z].Max > after && truth[z].Min <= through)
                .Select(z => ((long)z, descending ? truth[z].Max : truth[z].Min));
            Assert.Equal(expected, found.OrderBy(f => f.Zone));
            Assert.Equal(lastSequence, covered);
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 4)]
    [InlineData(true, 1)]
    [InlineData(true, 3)]
    public async Task The_merge_lets_events_out_in_time_order_however_much_zones_overlap(bool descending, int zonesPerRead)
    {
        // 2,000 events, times drawn widely at random so that every zone overlaps many others; ties included.
        var random = new Random(descending ? 11 : 5);
        var events = Enumerable.Range(1, 2000)
            .Select(s => new LoggedEvent(s, Event(s, random.Next(0, 600))))
            .ToList();
        var byZone = events.GroupBy(e => EventTimeZones.ZoneOf(e.EntitySequence)).ToDictionary(g => g.Key, g => g.ToList());
        var zones = byZone
            .Select(z => (Zone: z.Key, Bound: descending ? z.Value.Max(Ticks) : z.Value.Min(Ticks)))
            .OrderBy(z => descending ? -z.Bound : z.Bound)
            .ToList();

        var read = new List<long>();
        await foreach (var e in EventTimeZones.MergeAsync(zones, descending, zonesPerRead, (first, last, _) =>
            Task.FromResult<IReadOnlyList<LoggedEvent>>(events.Where(e => EventTimeZones.ZoneOf(e.EntitySequence) >= first && EventTimeZones.ZoneOf(e.EntitySequence) <= last).ToList())))
        {
            read.Add(e.EntitySequence);
        }

        var ordered = events.OrderBy(Ticks).ThenBy(e => e.EntitySequence).Select(e => e.EntitySequence);
        Assert.Equal(descending ? ordered.Reverse() : ordered, read);
    }

    private static long Ticks(LoggedEvent e) => e.Event.OccurredAt.UtcTicks;

    private static ImpactEvent Event(long sequence, int minute) =>
        new($"e-{sequence}", "a", EventType.Outage, Start.AddMinutes(minute), "US", 1, null, new OutageData(1000, 500, null));
}
