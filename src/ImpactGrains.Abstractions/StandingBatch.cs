using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Abstractions;

/// <summary>
/// Many entities' standings at once: what a silo sends to a leaderboard partition, what a partition publishes to the
/// leaderboard grain, and what each silo's leaderboard copy fetches. These cross between silos several thousand times a
/// second under load, and Orleans' own codec for <see cref="StandingReport"/> (a field header per double, a typed
/// dictionary of regions, reference tracking) was a fifth of a 2-silo cluster's CPU (docs/scaling.md). Between silos a
/// batch travels as one array of its own encoding (<see cref="StandingBatchConverter"/>), written and read in one pass;
/// within a silo, being immutable, it is passed as it is and never encoded. Doubles keep their exact bits, so a standing
/// read back scores exactly as it was sent. Never persisted (the partitions store each standing in its own form,
/// IStandingStore), so the encoding may change with the code.
/// </summary>
[Immutable]
public sealed class StandingBatch
{
    private const byte Format = 1;

    // One of the two is set when the batch is made; the other is made from it when first needed (and, in a race, twice
    // alike, which is harmless). Neither changes after that.
    private IReadOnlyList<StandingReport>? reports;
    private byte[]? body;

    /// <param name="reports">Never changed after this: the batch passes it on as it is.</param>
    public StandingBatch(IReadOnlyList<StandingReport> reports) => this.reports = reports;

    private StandingBatch(byte[] body) => this.body = body;

    /// <summary>A batch as it arrived from another silo, decoded at its first read.</summary>
    public static StandingBatch FromBody(byte[] body) => new(body);

    public IReadOnlyList<StandingReport> Reports => reports ??= Decode(body!);

    /// <summary>The batch's encoding, made at its first crossing and kept for the next ones (a published candidate set crosses to every silo).</summary>
    public byte[] Body => body ??= Encode(reports!);

    private static byte[] Encode(IReadOnlyList<StandingReport> reports)
    {
        // About 120 bytes for a report with two regions and a few event types.
        using var stream = new MemoryStream(16 + reports.Count * 128);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Format);
            writer.Write((byte)EventTypes.Count);
            writer.Write7BitEncodedInt(reports.Count);
            foreach (var report in reports)
            {
                writer.Write(report.Entity);
                writer.Write(report.Name);
                writer.Write((byte)report.Kind);
                writer.Write(report.AtTicks);
                WriteVector(writer, report.Direct);
                WriteVector(writer, report.Inherited);
                writer.Write7BitEncodedInt(report.Regions.Count);
                foreach (var (region, vector) in report.Regions)
                {
                    writer.Write(region);
                    WriteVector(writer, vector);
                }
            }
        }

        return stream.ToArray();
    }

    private static List<StandingReport> Decode(byte[] body)
    {
        using var reader = new BinaryReader(new MemoryStream(body, writable: false), System.Text.Encoding.UTF8);
        var format = reader.ReadByte();
        if (format != Format)
        {
            throw new InvalidDataException($"standing batch: unknown format {format}");
        }

        var types = reader.ReadByte();
        if (types != EventTypes.Count)
        {
            throw new InvalidDataException($"standing batch: written for {types} event types, this silo knows {EventTypes.Count}");
        }

        var count = reader.Read7BitEncodedInt();
        var reports = new List<StandingReport>(count);
        for (var i = 0; i < count; i++)
        {
            var entity = reader.ReadString();
            var name = reader.ReadString();
            var kind = (EntityKindCode)reader.ReadByte();
            var atTicks = reader.ReadInt64();
            var direct = ReadVector(reader);
            var inherited = ReadVector(reader);
            var regionCount = reader.Read7BitEncodedInt();
            var regions = new Dictionary<string, double[]>(regionCount, StringComparer.Ordinal);
            for (var r = 0; r < regionCount; r++)
            {
                var region = reader.ReadString();
                regions[region] = ReadVector(reader);
            }

            reports.Add(new StandingReport(entity, name, kind, atTicks, direct, inherited, regions));
        }

        return reports;
    }

    // A mask of the entries whose bits are not all zero, then those entries: most of an entity's vectors are mostly
    // zeros (inherited impact nearly always, a region's events of one or two types).
    private static void WriteVector(BinaryWriter writer, double[] vector)
    {
        // The mask has a bit per event type (nine today); more than 16 types needs a wider one and a new format.
        if (vector.Length != EventTypes.Count || EventTypes.Count > 16)
        {
            throw new ArgumentException($"an impact vector has {EventTypes.Count} entries, not {vector.Length}", nameof(vector));
        }

        ushort mask = 0;
        for (var i = 0; i < vector.Length; i++)
        {
            if (BitConverter.DoubleToInt64Bits(vector[i]) != 0)
            {
                mask |= (ushort)(1 << i);
            }
        }

        writer.Write(mask);
        for (var i = 0; i < vector.Length; i++)
        {
            if ((mask & (1 << i)) != 0)
            {
                writer.Write(vector[i]);
            }
        }
    }

    private static double[] ReadVector(BinaryReader reader)
    {
        var mask = reader.ReadUInt16();
        var vector = new double[EventTypes.Count];
        for (var i = 0; i < vector.Length; i++)
        {
            if ((mask & (1 << i)) != 0)
            {
                vector[i] = reader.ReadDouble();
            }
        }

        return vector;
    }
}

/// <summary>A <see cref="StandingBatch"/> between silos: its encoding, one byte array.</summary>
[GenerateSerializer]
public struct StandingBatchSurrogate
{
    [Id(0)] public byte[] Body;
}

[RegisterConverter]
public sealed class StandingBatchConverter : IConverter<StandingBatch, StandingBatchSurrogate>
{
    public StandingBatch ConvertFromSurrogate(in StandingBatchSurrogate surrogate) => StandingBatch.FromBody(surrogate.Body);

    public StandingBatchSurrogate ConvertToSurrogate(in StandingBatch value) => new() { Body = value.Body };
}
