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
