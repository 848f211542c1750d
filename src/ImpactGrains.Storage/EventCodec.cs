using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;

namespace ImpactGrains.Storage;

/// <summary>
/// How the log stores an event's body: everything but its id, entity and occurrence time, which are columns of their
/// own. Versioned by its first byte, and it reads every form ever written:
/// <list type="bullet">
/// <item>Format 1 (current): binary, little-endian; about a third of the JSON's size and no text to parse.</item>
/// <item>Legacy (logs written before format 1): the event's normalised JSON, which starts with '{'.</item>
/// </list>
/// Reading is lenient: it restores what was stored without the API's validation, so that tightening a limit of the
/// API never makes a stored event unreadable.
/// </summary>
public static class EventCodec
{
    private const byte Format1 = 1;

    [Flags]
    private enum Present : byte
    {
        None = 0,
        Confidence = 1,
        Source = 2,
        A = 4,
        B = 8,
        C = 16,
    }

    /// <summary>Writes the body of <paramref name="e"/> (format 1).</summary>
    public static void Write(IBufferWriter<byte> output, ImpactEvent e)
    {
        var writer = new Writer(output);
        writer.Byte(Format1);
        writer.Byte((byte)e.Type);
        writer.Ascii(e.Region);
        var present = (e.Confidence != 1 ? Present.Confidence : 0) | (e.Source is not null ? Present.Source : 0);
        switch (e.Data)
        {
            case OutageData o:
                present |= (o.BaselineReports is not null ? Present.A : 0) | (o.DurationMinutes is not null ? Present.B : 0);
                writer.Byte((byte)present);
                WriteCommon(ref writer, e, present);
                writer.Long(o.Reports);
                if (o.BaselineReports is { } baseline) writer.Long(baseline);
                if (o.DurationMinutes is { } duration) writer.Double(duration);
                break;
            case CyberattackData c:
                present |= (c.Claimed ? Present.A : 0) | (c.Attribution is not null ? Present.B : 0);
                writer.Byte((byte)present);
                WriteCommon(ref writer, e, present);
                if (c.Attribution is not null) writer.Text(c.Attribution);
                break;
            case ProtestData p:
                present |= (p.Participants is not null ? Present.A : 0) | (p.Locations is not null ? Present.B : 0);
                writer.Byte((byte)present);
                WriteCommon(ref writer, e, present);
                if (p.Participants is { } participants) writer.Long(participants);
                if (p.Locations is { } locations) writer.Long(locations);
                break;
            case SalesChangeData s:
                present |= (s.Units is not null ? Present.A : 0) | (s.Period is not null ? Present.B : 0);
                writer.Byte((byte)present);
                WriteCommon(ref writer, e, present);
                writer.Double(s.Percent);
                if (s.Units is { } units) writer.Long(units);
                if (s.Period is not null) writer.Text(s.Period);
                break;
            case StockChangeData s:
                present |= s.ClosePrice is not null ? Present.A : 0;
                writer.Byte((byte)present);
                WriteCommon(ref writer, e, present);
                writer.Double(s.Percent);
                if (s.ClosePrice is { } close) writer.Double(close);
                break;
            case NetWorthChangeData n:
                present |= n.NetWorthUsd is not null ? Present.A : 0;
                writer.Byte((byte)present);
                WriteCommon(ref writer, e, present);
                writer.Double(n.DeltaUsd);
                if (n.NetWorthUsd is { } worth) writer.Double(worth);
                break;
            case SeverityData s:
                present |= s.Description is not null ? Present.A : 0;
                writer.Byte((byte)present);
                WriteCommon(ref writer, e, present);
                writer.Byte((byte)s.Severity);
                if (s.Description is not null) writer.Text(s.Description);
                break;
            case IncidentData i:
                present |= i.Status == IncidentStatus.Detected ? Present.A : 0;
                writer.Byte((byte)present);
                WriteCommon(ref writer, e, present);
                writer.Long(i.Reports);
                writer.Double(i.BaselineMean);
                writer.Double(i.BaselineStdDev);
                writer.Double(i.ZScore);
                writer.Long(i.StartedAt.UtcTicks);
                writer.Long(i.PeakReports);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(e), e.Data, "unknown event data");
        }
    }

    private static void WriteCommon(ref Writer writer, ImpactEvent e, Present present)
    {
        if ((present & Present.Confidence) != 0) writer.Double(e.Confidence);
        if ((present & Present.Source) != 0) writer.Text(e.Source!);
    }

    /// <summary>The body of <paramref name="e"/> as a new array.</summary>
    public static byte[] Encode(ImpactEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        Write(buffer, e);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Restores an event from its stored columns and body, whatever format the body is in.</summary>
    public static ImpactEvent Decode(string id, string entity, long occurredAtTicks, ReadOnlySpan<byte> body)
    {
        if (body.Length > 0 && body[0] == (byte)'{')
        {
            return EventJson.Deserialize(Encoding.UTF8.GetString(body));
        }

        if (body.Length < 4 || body[0] != Format1)
        {
            throw new InvalidDataException($"event {id}: unknown stored format {(body.Length > 0 ? body[0] : -1)}");
        }

        var reader = new Reader(body[1..]);
        var type = (EventType)reader.Byte();
        var regionBytes = reader.AsciiBytes();
        var region = Regions.TryNormalizeAscii(regionBytes, out var code) ? code : Encoding.ASCII.GetString(regionBytes);
        var present = (Present)reader.Byte();
        var confidence = (present & Present.Confidence) != 0 ? reader.Double() : 1.0;
        var source = (present & Present.Source) != 0 ? reader.Text() : null;
        bool Has(Present p) => (present & p) != 0;
        EventData data = type switch
        {
            EventType.Outage => new OutageData(reader.Long(), Has(Present.A) ? reader.Long() : null, Has(Present.B) ? reader.Double() : null),
            EventType.Cyberattack => new CyberattackData(Has(Present.A), Has(Present.B) ? reader.Text() : null),
            EventType.Protest => new ProtestData(Has(Present.A) ? reader.Long() : null, Has(Present.B) ? (int)reader.Long() : null),
            EventType.SalesChange => new SalesChangeData(reader.Double(), Has(Present.A) ? reader.Long() : null, Has(Present.B) ? reader.Text() : null),
            EventType.StockChange => new StockChangeData(reader.Double(), Has(Present.A) ? reader.Double() : null),
            EventType.NetWorthChange => new NetWorthChangeData(reader.Double(), Has(Present.A) ? reader.Double() : null),
            EventType.ProductFailure or EventType.Statement => new SeverityData((Severity)reader.Byte(), Has(Present.A) ? reader.Text() : null),
            EventType.Incident => new IncidentData(Has(Present.A) ? IncidentStatus.Detected : IncidentStatus.Resolved, reader.Long(), reader.Double(),
                reader.Double(), reader.Double(), new DateTimeOffset(reader.Long(), TimeSpan.Zero), reader.Long()),
            _ => throw new InvalidDataException($"event {id}: unknown stored type {(byte)type}"),
        };
        return new ImpactEvent(id, entity, type, new DateTimeOffset(occurredAtTicks, TimeSpan.Zero), region, confidence, source, data);
    }

    private ref struct Writer(IBufferWriter<byte> output)
    {
        public readonly void Byte(byte value)
        {
            output.GetSpan(1)[0] = value;
            output.Advance(1);
        }

        public readonly void Long(long value)
        {
            // ZigZag varint: the counts stored here are small and never negative, ticks are large; both stay compact.
            var zigzag = (ulong)((value << 1) ^ (value >> 63));
            var span = output.GetSpan(10);
            var length = 0;
            while (zigzag >= 0x80)
            {
                span[length++] = (byte)(zigzag | 0x80);
                zigzag >>= 7;
            }

            span[length++] = (byte)zigzag;
            output.Advance(length);
        }

        public readonly void Double(double value)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(output.GetSpan(8), value);
            output.Advance(8);
        }

        public readonly void Ascii(string value)
        {
            var span = output.GetSpan(1 + value.Length);
            span[0] = (byte)value.Length;
            Encoding.ASCII.GetBytes(value, span[1..]);
            output.Advance(1 + value.Length);
        }

        public readonly void Text(string value)
        {
            var byteCount = Encoding.UTF8.GetByteCount(value);
            Long(byteCount);
            Encoding.UTF8.GetBytes(value, output.GetSpan(byteCount));
            output.Advance(byteCount);
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> body)
    {
        private ReadOnlySpan<byte> rest = body;

        public byte Byte()
        {
            var value = rest[0];
            rest = rest[1..];
            return value;
        }

        public long Long()
        {
            ulong value = 0;
            var shift = 0;
            byte b;
            do
            {
                b = rest[0];
                rest = rest[1..];
                value |= (ulong)(b & 0x7F) << shift;
                shift += 7;
            }
            while ((b & 0x80) != 0);

            return (long)(value >> 1) ^ -(long)(value & 1);
        }

        public double Double()
        {
            var value = BinaryPrimitives.ReadDoubleLittleEndian(rest);
            rest = rest[8..];
            return value;
        }

        /// <summary>A short ASCII string's bytes (a region code: shared strings are looked up, not allocated).</summary>
        public ReadOnlySpan<byte> AsciiBytes()
        {
            int length = Byte();
            var value = rest[..length];
            rest = rest[length..];
            return value;
        }

        public string Text()
        {
            var length = (int)Long();
            var value = Encoding.UTF8.GetString(rest[..length]);
            rest = rest[length..];
            return value;
        }
    }
}
