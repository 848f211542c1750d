using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// The persisted form of an <see cref="EntityTimeline"/>, in two parts: the live part (head, tail, top contributions,
/// regions: bounded by what still matters, and what a snapshot holds) and the sealed intervals in chunks of
/// <see cref="ChunkSize"/>, stored apart and rewritten only when they change. Binary and versioned by its first byte.
/// </summary>
public static class TimelineCodec
{
    public const int ChunkSize = 64;

    // Chunks, and the live part as first written: it also held the ranking of all contributions.
    private const byte Version1 = 1;

    // The live part without the ranking of all contributions: that is the sealed ranking's with the tail's added, and
    // the tail is read back from the log anyway (EntityTimeline.RestoreTailAsync). Writing it was most of a snapshot's
    // cost: up to ExplainCapacity contributions per type, on every snapshot of a busy entity.
    private const byte LiveVersion2 = 2;

    public static byte[] WriteLive(EntityTimeline timeline)
    {
        var w = new Writer();
        w.Byte(LiveVersion2);
        w.Text(timeline.Entity);
        w.Long(timeline.MinTicks);
        w.Int(timeline.Count);
        w.Int(timeline.Regions.Count);
        foreach (var region in timeline.Regions.Names)
        {
            w.Text(region);
        }

        WriteState(w, timeline.Head);
        w.Bool(timeline.HeadPeakValid);
        w.Int(timeline.IntervalCount);
        w.Int(timeline.PeakValidIntervals);
        // The tail is not written: it is the most recent part of the history, read back when the timeline is restored
        // (EntityTimeline.RestoreTailAsync), so a snapshot stays small however fast events arrive. The sealed ranking
        // changes only as intervals are sealed, so its encoding is kept between snapshots.
        var sealedTop = timeline.SealedTop;
        if (timeline.SealedTopEncoding is not { } encoding || encoding.Version != sealedTop.Version)
        {
            encoding = (sealedTop.Version, EncodeContributions(sealedTop.Members.ToList()));
            timeline.SealedTopEncoding = encoding;
        }

        w.Raw(encoding.Bytes);
        return w.ToArray();
    }

    /// <summary>
    /// The intervals of chunk <paramref name="chunk"/> (interval indexes chunk × <see cref="ChunkSize"/> onward). Its page
    /// must be in memory, as it is for every chunk changed since it was last persisted.
    /// </summary>
    public static byte[] WriteChunk(EntityTimeline timeline, int chunk)
    {
        var w = new Writer();
        w.Byte(Version1);
        var first = chunk * ChunkSize;
        var last = Math.Min(timeline.IntervalCount, first + ChunkSize);
        w.Int(last - first);
        for (var i = first; i < last; i++)
        {
            var interval = timeline.Interval(i);
            w.Long(interval.EndTicks);
            w.Long(interval.MinTicks);
            w.Int(interval.Count);
            w.Int(interval.OwnCount);
            w.Double(interval.PeakScore);
            w.Long(interval.PeakTicks);
            w.Doubles(timeline.ResidentDelta(i));
        }

        return w.ToArray();
    }

    /// <summary>The end and delta of each interval in a stored chunk: what a timeline reads back of a page it let go of.</summary>
    internal static List<(long EndTicks, double[] Delta)> ReadChunkDeltas(byte[] chunk)
    {
        var c = new Reader(chunk);
        if (c.Byte() != Version1)
        {
            throw new InvalidDataException("unknown timeline chunk format");
        }

        var n = c.Int();
        var items = new List<(long, double[])>(n);
        for (var i = 0; i < n; i++)
        {
            var end = c.Long();
            c.Long(); // the rest of the index entry: the timeline holds it in memory
            c.Int();
            c.Int();
            c.Double();
            c.Long();
            items.Add((end, c.Doubles()));
        }

        return items;
    }

    public static IEnumerable<int> ChunksOf(IEnumerable<int> intervals) => intervals.Select(i => i / ChunkSize).Distinct();

    public static int ChunkCount(int intervals) => (intervals + ChunkSize - 1) / ChunkSize;

    /// <summary>
    /// Restores a timeline from its live part and its chunks (in chunk order, exactly those that cover its intervals).
    /// Its tail must then be read back with <see cref="EntityTimeline.RestoreTailAsync"/>. With a
    /// <paramref name="reader"/> over the same stored chunks, only the index of the sealed intervals stays in memory and
    /// their pages are read back when a query needs them; without one, every page stays.
    /// </summary>
    public static EntityTimeline Read(DecayTable table, TimelineOptions options, byte[] live, IReadOnlyList<byte[]> chunks, ISealedChunkReader? reader = null)
    {
        var r = new Reader(live);
        var version = r.Byte();
        if (version is not (Version1 or LiveVersion2))
        {
            throw new InvalidDataException("unknown timeline format");
        }

        var entity = r.Text();
        var minTicks = r.Long();
        var count = r.Int();
        var regionNames = new List<string>();
        for (var regionCount = r.Int(); regionNames.Count < regionCount;)
        {
            regionNames.Add(r.Text());
        }

        var head = ReadState(ref r);
        var headPeakValid = r.Bool();
        var intervalCount = r.Int();
        var peakValid = r.Int();
        if (version == Version1)
        {
            ReadContributions(ref r, entity); // the ranking of all contributions: built again with the tail
        }

        var sealedTop = ReadContributions(ref r, entity);

        var timeline = EntityTimeline.Restore(entity, table, options, regionNames, minTicks, count, head, headPeakValid, sealedTop);
        timeline.ReserveIntervals(intervalCount);
        var entries = new List<TimelineInterval>(ChunkSize);
        var deltas = new List<double[]>(ChunkSize);
        foreach (var chunk in chunks)
        {
            var c = new Reader(chunk);
            if (c.Byte() != Version1)
            {
                throw new InvalidDataException("unknown timeline chunk format");
            }

            entries.Clear();
            deltas.Clear();
            var n = c.Int();
            for (var i = 0; i < n && timeline.IntervalCount + entries.Count < intervalCount; i++)
            {
                var end = c.Long();
                var min = c.Long();
                var contributions = c.Int();
                var own = c.Int();
                var peakScore = c.Double();
                var peakTicks = c.Long();
                entries.Add(new TimelineInterval(end, min, contributions, own, peakScore, peakTicks));
                deltas.Add(c.Doubles());
            }

            if (entries.Count > 0)
            {
                // One chunk at a time: with a reader, its deltas are summed into the chunk's summary and let go.
                timeline.RestoreChunk(entries, reader is null ? deltas.ToList() : deltas, keepPage: reader is null);
            }
        }

        if (timeline.IntervalCount != intervalCount)
        {
            throw new InvalidDataException($"the timeline of {entity} has {intervalCount} sealed intervals, its chunks {timeline.IntervalCount}");
        }

        timeline.RestorePeakValid(peakValid);
        if (reader is not null)
        {
            timeline.PageTo(reader);
        }

        return timeline;
    }

    private static void WriteState(Writer w, ImpactState state)
    {
        w.Long(state.At);
        w.Int(state.OwnCount);
        w.Double(state.PeakScore);
        w.Long(state.PeakTicks);
        w.Doubles(state.Values);
    }

    private static ImpactState ReadState(ref Reader r)
    {
        var at = r.Long();
        var own = r.Int();
        var peak = r.Double();
        var peakTicks = r.Long();
        return ImpactState.From(r.Doubles(), at, own, peak, peakTicks);
    }

    /// <summary>A list of contributions as the live part holds one (a count, then each: own ones without their source).</summary>
    internal static byte[] EncodeContributions(IReadOnlyList<Contribution> contributions)
    {
        var w = new Writer();
        WriteContributions(w, contributions);
        return w.ToArray();
    }

    private static void WriteContributions(Writer w, IReadOnlyList<Contribution> contributions)
    {
        w.Int(contributions.Count);
        foreach (var c in contributions)
        {
            w.Text(c.EventId);
            w.Bool(c.Own);
            if (!c.Own)
            {
                w.Text(c.Source);
            }

            w.Long(c.Sequence);
            w.Byte((byte)c.Type);
            w.Long(c.Ticks);
            w.Text(c.Region);
            w.Double(c.Value);
        }
    }

    private static List<Contribution> ReadContributions(ref Reader r, string entity)
    {
        var count = r.Int();
        var list = new List<Contribution>(count);
        for (var i = 0; i < count; i++)
        {
            var id = r.Text();
            var own = r.Bool();
            var source = own ? entity : r.Text();
            var sequence = r.Long();
            var type = (EventType)r.Byte();
            var ticks = r.Long();
            var region = r.Text();
            list.Add(new Contribution(id, source, sequence, type, ticks, Validation.Regions.TryNormalize(region, out var code) ? code : region, r.Double(), own));
        }

        return list;
    }

    private sealed class Writer
    {
        private readonly ArrayBufferWriter<byte> buffer = new(256);

        public void Byte(byte value)
        {
            buffer.GetSpan(1)[0] = value;
            buffer.Advance(1);
        }

        public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

        public void Int(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer.GetSpan(4), value);
            buffer.Advance(4);
        }

        public void Long(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(buffer.GetSpan(8), value);
            buffer.Advance(8);
        }

        public void Double(double value)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(buffer.GetSpan(8), value);
            buffer.Advance(8);
        }

        public void Doubles(double[] values)
        {
            Int(values.Length);
            foreach (var value in values)
            {
                Double(value);
            }
        }

        /// <summary>The length in bytes, then the UTF-8 bytes, written in place.</summary>
        public void Text(string value)
        {
            var span = buffer.GetSpan(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
            var length = Encoding.UTF8.GetBytes(value, span[4..]);
            BinaryPrimitives.WriteInt32LittleEndian(span, length);
            buffer.Advance(4 + length);
        }

        public void Raw(ReadOnlySpan<byte> bytes) => buffer.Write(bytes);

        public byte[] ToArray() => buffer.WrittenSpan.ToArray();
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> rest = data;

        public byte Byte()
        {
            var value = rest[0];
            rest = rest[1..];
            return value;
        }

        public bool Bool() => Byte() != 0;

        public int Int()
        {
            var value = BinaryPrimitives.ReadInt32LittleEndian(rest);
            rest = rest[4..];
            return value;
        }

        public long Long()
        {
            var value = BinaryPrimitives.ReadInt64LittleEndian(rest);
            rest = rest[8..];
            return value;
        }

        public double Double()
        {
            var value = BinaryPrimitives.ReadDoubleLittleEndian(rest);
            rest = rest[8..];
            return value;
        }

        public double[] Doubles()
        {
            var values = new double[Int()];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = Double();
            }

            return values;
        }

        public string Text()
        {
            var length = Int();
            var value = Encoding.UTF8.GetString(rest[..length]);
            rest = rest[length..];
            return value;
        }
    }
}
