using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ImpactGrains.Storage.Sqlite;

/// <summary>
/// The embedded log's time map (a block range index, like PostgreSQL's BRIN): for every run of
/// <see cref="EventsPerZone"/> consecutive sequence numbers of an entity, the earliest and latest occurrence time among
/// its events. It replaces a B-tree on (entity, occurred_at), which cost the writer one more page per entity touched in
/// every commit, a third of the log's page writes (docs/performance.md); a zone row changes in place and 256 events
/// share it. Reads by time visit the zones whose range meets the interval, in order of their earliest time, and merge
/// their events (<see cref="MergeAsync"/>): events mostly arrive in time order, so zones barely overlap, and a late
/// event only widens its zone's range.
/// </summary>
internal sealed class EventTimeZones
{
    public const string Table = "event_time_zones";

    /// <summary>log2 of <see cref="EventsPerZone"/>; migration 0008 computes zones with the same function.</summary>
    public const int Shift = 8;

    public const int EventsPerZone = 1 << Shift;

    // The writer's changes in the current commit: one entry per (entity, zone) however many events it took.
    private readonly Dictionary<(string Entity, long Zone), (long Min, long Max)> changed = [];

    public static long ZoneOf(long sequence) => sequence >> Shift;

    public static long FirstSequence(long zone) => zone << Shift;

    public static long LastSequence(long zone) => ((zone + 1) << Shift) - 1;

    /// <summary>Widens the range of the event's zone in the current commit.</summary>
    public void Add(string entity, long sequence, long occurredTicks)
    {
        ref var range = ref CollectionsMarshal.GetValueRefOrAddDefault(changed, (entity, ZoneOf(sequence)), out var existed);
        range = existed ? (Math.Min(range.Min, occurredTicks), Math.Max(range.Max, occurredTicks)) : (occurredTicks, occurredTicks);
    }

    /// <summary>The ranges to upsert in this commit; empties the set.</summary>
    public List<(string Entity, long Zone, long Min, long Max)> Drain()
    {
        var ranges = new List<(string, long, long, long)>(changed.Count);
        foreach (var ((entity, zone), (min, max)) in changed)
        {
            ranges.Add((entity, zone, min, max));
        }

        changed.Clear();
        return ranges;
    }

    /// <summary>Forgets the ranges of a commit that failed.</summary>
    public void Clear() => changed.Clear();

    /// <summary>
    /// Merges the events of <paramref name="zones"/> into one sequence ordered by (time, sequence), ascending, or
    /// descending when <paramref name="descending"/>. <paramref name="zones"/> come sorted by their bound: the earliest
    /// time ascending, or the latest time descending. Zones are read when the merge reaches their bound, a run of up to
    /// <paramref name="zonesPerRead"/> consecutive zone numbers in one read (reading early is safe, only more is held), and
    /// an event is let out only once every zone that could hold an earlier one has been read: an event strictly before
    /// the next unread zone's bound precedes everything still unread.
    /// </summary>
    /// <param name="readZones">Reads the events of the zones from the first to the last number given, inclusive.</param>
    public static async IAsyncEnumerable<LoggedEvent> MergeAsync(
        IReadOnlyList<(long Zone, long Bound)> zones,
        bool descending,
        int zonesPerRead,
        Func<long, long, CancellationToken, Task<IReadOnlyList<LoggedEvent>>> readZones,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Keys negated for a descending merge, so that one ascending queue serves both directions.
        var sign = descending ? -1 : 1;
        var pending = new PriorityQueue<LoggedEvent, (long Ticks, long Sequence)>();
        var i = 0;
        while (i < zones.Count)
        {
            while (pending.TryPeek(out var next, out var key) && key.Ticks < sign * zones[i].Bound)
            {
                pending.Dequeue();
                yield return next;
            }

            // Zones in time order are mostly in number order too (descending: in reverse): one read takes a run of them.
            var run = 1;
            while (run < zonesPerRead && i + run < zones.Count && zones[i + run].Zone == zones[i + run - 1].Zone + sign)
            {
                run++;
            }

            var (first, last) = (zones[i].Zone, zones[i + run - 1].Zone);
            foreach (var e in await readZones(Math.Min(first, last), Math.Max(first, last), cancellationToken))
            {
                pending.Enqueue(e, (sign * e.Event.OccurredAt.UtcTicks, sign * e.EntitySequence));
            }

            i += run;
        }

        while (pending.TryDequeue(out var next, out _))
        {
            yield return next;
        }
    }
}
