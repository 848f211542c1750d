using System.Collections.Concurrent;

namespace ImpactGrains.Storage.Sqlite;

/// <summary>
/// The time maps (<see cref="EventTimeZones"/>) of the entities with long histories, held in memory and kept current by
/// the log's writer after each commit. A history of 200 points reads as many intervals by time, and each had to scan the
/// entity's zone rows: 3,900 of them at 1,000,000 events, 0.5 ms an interval. Only maps of
/// <see cref="MinZonesKept"/> zones or more stay (a shorter one is read again each time, as cheaply), so the memory is
/// about 16 bytes per 256 events of the long histories. Each block of <see cref="ZonesPerBlock"/> zones keeps the bounds
/// of all of them, so a read passes over the blocks and scans only the zones of those that meet its interval: at
/// 10,000,000 events a read scanned 39,000 zones, and a 200-point /history did 200 reads.
/// </summary>
internal sealed class TimeMapCache
{
    public const int MinZonesKept = 16;

    public const int ZonesPerBlock = 64;

    private readonly ConcurrentDictionary<string, Map> maps = new(StringComparer.Ordinal);

    private sealed class Map
    {
        public readonly Lock Gate = new();

        // Indexed by zone number: an entity's sequence numbers have no gaps, so neither have its zones.
        public readonly List<(long Min, long Max)> Zones = [];

        // Block b: the earliest and latest occurrence of zones b × ZonesPerBlock onwards (ZonesPerBlock of them).
        public readonly List<(long Min, long Max)> Blocks = [];

        public long LastSequence;

        public Task? Loading;

        public void Merge(long zone, long min, long max)
        {
            while (Zones.Count <= zone)
            {
                Zones.Add((long.MaxValue, long.MinValue));
            }

            var (oldMin, oldMax) = Zones[(int)zone];
            Zones[(int)zone] = (Math.Min(oldMin, min), Math.Max(oldMax, max));
            var block = (int)(zone / ZonesPerBlock);
            while (Blocks.Count <= block)
            {
                Blocks.Add((long.MaxValue, long.MinValue));
            }

            var (blockMin, blockMax) = Blocks[block];
            Blocks[block] = (Math.Min(blockMin, min), Math.Max(blockMax, max));
        }
    }

    /// <summary>
    /// The writer, after a commit: widens the maps held in memory. Zones before the last sequence, so that a reader
    /// never sees a sequence its zones do not cover yet.
    /// </summary>
    public void Committed(IEnumerable<(string Entity, long Zone, long Min, long Max)> ranges, IReadOnlyDictionary<string, long> lastSequences)
    {
        if (maps.IsEmpty)
        {
            return;
        }

        foreach (var (entity, zone, min, max) in ranges)
        {
            if (maps.TryGetValue(entity, out var map))
            {
                lock (map.Gate)
                {
                    map.Merge(zone, min, max);
                }
            }
        }

        foreach (var (entity, last) in lastSequences)
        {
            if (maps.TryGetValue(entity, out var map))
            {
                lock (map.Gate)
                {
                    map.LastSequence = Math.Max(map.LastSequence, last);
                }
            }
        }
    }

    /// <summary>
    /// The zones of <paramref name="entity"/> that may hold events in (afterTicks, throughTicks], with their bounds
    /// for <see cref="EventTimeZones.MergeAsync"/> (unsorted), and the last sequence those zones cover.
    /// </summary>
    /// <param name="load">Reads the entity's zones and last sequence in one statement.</param>
    public async Task<(List<(long Zone, long Bound)> Zones, long LastSequence)> FindAsync(
        string entity, bool descending, long afterTicks, long throughTicks, long throughSequence,
        Func<Task<(List<(long Zone, long Min, long Max)> Zones, long LastSequence)>> load)
    {
        // Registered before it is read, so that the writer's later commits merge into it (merging is idempotent and in
        // any order, so a commit both read and merged counts once).
        var map = maps.GetOrAdd(entity, _ => new Map());
        Task loading;
        lock (map.Gate)
        {
            loading = map.Loading ??= Task.Run(async () =>
            {
                var (zones, last) = await load();
                lock (map.Gate)
                {
                    foreach (var (zone, min, max) in zones)
                    {
                        map.Merge(zone, min, max);
                    }

                    map.LastSequence = Math.Max(map.LastSequence, last);
                }
            });
        }

        try
        {
            await loading;
        }
        catch
        {
            maps.TryRemove(new KeyValuePair<string, Map>(entity, map));
            throw;
        }

        var found = new List<(long, long)>();
        long covered;
        lock (map.Gate)
        {
            covered = Math.Min(throughSequence, map.LastSequence);
            var lastZone = Math.Min(map.Zones.Count - 1, EventTimeZones.ZoneOf(covered));
            for (var block = 0; block * ZonesPerBlock <= lastZone; block++)
            {
                var (blockMin, blockMax) = map.Blocks[block];
                if (blockMax <= afterTicks || blockMin > throughTicks)
                {
                    continue;
                }

                for (var zone = block * ZonesPerBlock; zone <= Math.Min(lastZone, block * ZonesPerBlock + ZonesPerBlock - 1); zone++)
                {
                    var (min, max) = map.Zones[zone];
                    if (max > afterTicks && min <= throughTicks)
                    {
                        found.Add((zone, descending ? max : min));
                    }
                }
            }

            if (map.Zones.Count < MinZonesKept)
            {
                maps.TryRemove(new KeyValuePair<string, Map>(entity, map));
            }
        }

        return (found, covered);
    }
}
