using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Scoring.Validation;

/// <summary>
/// Reads a well-formed event straight from UTF-8 JSON: no document, and no string allocated but the ones the event
/// keeps. It accepts only what <see cref="EventJson.Parse"/> accepts and builds the identical event; it gives up
/// (returns false) on anything else, however harmless: text that is not plain ASCII, an escape sequence, a duplicate
/// or unknown data field, an incident, any value out of range. The caller then reads the event with
/// <see cref="EventJson.Parse"/>, which is the single definition of what is valid and of every error message. The
/// equivalence is checked by <c>EventBatchReaderTests</c> on random and hand-picked events.
/// </summary>
internal static class EventFastReader
{
    private const int Id = 1, Entity = 2, Type = 4, OccurredAt = 8, Region = 16, Confidence = 32, Source = 64, Data = 128;

    /// <summary>Reads the event whose <see cref="JsonTokenType.StartObject"/> the reader is on; on success it is left on the matching end.</summary>
    public static bool TryRead(ref Utf8JsonReader reader, DateTimeOffset latestAllowed, [NotNullWhen(true)] out ImpactEvent? result)
    {
        result = null;
        var seen = 0;
        string? id = null, entity = null, source = null;
        var type = EventType.Outage;
        var when = default(DateTimeOffset);
        var region = ImpactEvent.GlobalRegion;
        var confidence = 1.0;
        var data = default(Utf8JsonReader);
        var hasData = false;
        var closed = false;

        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                closed = true;
                break;
            }

            if (reader.ValueIsEscaped)
            {
                return false;
            }

            var field = FieldOf(reader.ValueSpan);
            if (!reader.Read())
            {
                return false;
            }

            if (field == 0)
            {
                // Unknown fields are ignored, as EventJson ignores them, but their text must be readable.
                if (!SkipPlain(ref reader))
                {
                    return false;
                }

                continue;
            }

            if ((seen & field) != 0)
            {
                return false;
            }

            seen |= field;
            var token = reader.TokenType;
            switch (field)
            {
                case Id:
                    if (!TryPlainString(ref reader, EventJson.MaxIdLength, out id) || id.Length == 0)
                    {
                        return false;
                    }

                    break;
                case Entity:
                    if (token != JsonTokenType.String || reader.ValueIsEscaped || !IsEntityId(reader.ValueSpan))
                    {
                        return false;
                    }

                    entity = Encoding.ASCII.GetString(reader.ValueSpan);
                    break;
                case Type:
                    if (token != JsonTokenType.String || reader.ValueIsEscaped || !TryType(reader.ValueSpan, out type))
                    {
                        return false;
                    }

                    break;
                case OccurredAt:
                    if (token != JsonTokenType.String || reader.ValueIsEscaped || !TryTimestamp(reader.ValueSpan, out when))
                    {
                        return false;
                    }

                    break;
                case Region:
                    if (token != JsonTokenType.Null &&
                        (token != JsonTokenType.String || reader.ValueIsEscaped || !Regions.TryNormalizeAscii(reader.ValueSpan, out region)))
                    {
                        return false;
                    }

                    break;
                case Confidence:
                    if (token != JsonTokenType.Null && (!TryNumber(ref reader, out confidence) || confidence is < EventJson.MinConfidence or > EventJson.MaxConfidence))
                    {
                        return false;
                    }

                    break;
                case Source:
                    if (token != JsonTokenType.Null && !TryPlainString(ref reader, EventJson.MaxSourceLength, out source))
                    {
                        return false;
                    }

                    break;
                case Data:
                    if (token == JsonTokenType.StartObject)
                    {
                        data = reader;
                        hasData = true;
                        reader.Skip();
                    }
                    else if (token != JsonTokenType.Null)
                    {
                        return false;
                    }

                    break;
            }
        }

        if (!closed || (seen & (Id | Entity | Type | OccurredAt)) != (Id | Entity | Type | OccurredAt) ||
            when < EventJson.EarliestOccurredAt || when > latestAllowed)
        {
            return false;
        }

        var fields = new DataReader(data, hasData);
        EventData? eventData = type switch
        {
            EventType.Outage => fields.Outage(),
            EventType.Cyberattack => fields.Cyberattack(),
            EventType.Protest => fields.Protest(),
            EventType.SalesChange => fields.SalesChange(),
            EventType.StockChange => fields.StockChange(),
            EventType.NetWorthChange => fields.NetWorthChange(),
            EventType.ProductFailure or EventType.Statement => fields.Severity(),
            _ => null, // incidents are rare and detailed: the exact path reads them
        };

        if (eventData is null)
        {
            return false;
        }

        result = new ImpactEvent(id!, entity!, type, when.ToUniversalTime(), region, confidence, source, eventData);
        return true;
    }

    private static int FieldOf(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 when name.SequenceEqual("id"u8) => Id,
        4 when name.SequenceEqual("type"u8) => Type,
        4 when name.SequenceEqual("data"u8) => Data,
        6 when name.SequenceEqual("entity"u8) => Entity,
        6 when name.SequenceEqual("region"u8) => Region,
        6 when name.SequenceEqual("source"u8) => Source,
        10 when name.SequenceEqual("occurredAt"u8) => OccurredAt,
        10 when name.SequenceEqual("confidence"u8) => Confidence,
        _ => 0,
    };

    /// <summary>Skips a value whose every string and property name is plain ASCII, with no escape.</summary>
    private static bool SkipPlain(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return reader.TokenType != JsonTokenType.String || IsPlain(ref reader);
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !IsPlain(ref reader))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPlain(ref Utf8JsonReader reader) => !reader.ValueIsEscaped && Ascii.IsValid(reader.ValueSpan);

    /// <summary>A string of at most <paramref name="maxLength"/> plain ASCII characters without control characters.</summary>
    private static bool TryPlainString(ref Utf8JsonReader reader, int maxLength, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped)
        {
            return false;
        }

        var span = reader.ValueSpan;
        if (span.Length > maxLength || !Ascii.IsValid(span) || span.IndexOfAnyInRange((byte)0, (byte)0x1F) >= 0 || span.Contains((byte)0x7F))
        {
            return false;
        }

        value = Encoding.ASCII.GetString(span);
        return true;
    }

    private static bool TryNumber(ref Utf8JsonReader reader, out double value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out value) && double.IsFinite(value);
    }

    /// <summary><see cref="EntityIds.IsValid"/> on UTF-8: [a-z0-9][a-z0-9-]{0,63}.</summary>
    private static bool IsEntityId(ReadOnlySpan<byte> value)
    {
        if (value.Length is 0 or > 64 || value[0] == (byte)'-')
        {
            return false;
        }

        foreach (var b in value)
        {
            if (b is not ((>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryType(ReadOnlySpan<byte> name, out EventType type)
    {
        type = name switch
        {
            _ when name.SequenceEqual("outage"u8) => EventType.Outage,
            _ when name.SequenceEqual("stock-change"u8) => EventType.StockChange,
            _ when name.SequenceEqual("sales-change"u8) => EventType.SalesChange,
            _ when name.SequenceEqual("statement"u8) => EventType.Statement,
            _ when name.SequenceEqual("protest"u8) => EventType.Protest,
            _ when name.SequenceEqual("cyberattack"u8) => EventType.Cyberattack,
            _ when name.SequenceEqual("net-worth-change"u8) => EventType.NetWorthChange,
            _ when name.SequenceEqual("product-failure"u8) => EventType.ProductFailure,
            _ when name.SequenceEqual("incident"u8) => EventType.Incident,
            _ => (EventType)255,
        };
        return type != (EventType)255;
    }

    /// <summary>
    /// RFC 3339 as <see cref="EventJson.ParseTimestamp"/> reads it (YYYY-MM-DDTHH:MM:SS[.f{1,7}](Z|±HH:MM)), for the
    /// forms whose meaning is beyond doubt: upper-case T and Z, a year from 1900 to 9000, seconds below 60 and an
    /// offset within ±14:00. Anything else goes to the exact path.
    /// </summary>
    internal static bool TryTimestamp(ReadOnlySpan<byte> text, out DateTimeOffset value)
    {
        value = default;
        if (text.Length < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':')
        {
            return false;
        }

        if (!TryDigits(text[..4], out var year) || !TryDigits(text.Slice(5, 2), out var month) || !TryDigits(text.Slice(8, 2), out var day) ||
            !TryDigits(text.Slice(11, 2), out var hour) || !TryDigits(text.Slice(14, 2), out var minute) || !TryDigits(text.Slice(17, 2), out var second))
        {
            return false;
        }

        if (year is < 1900 or > 9000 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) ||
            hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var rest = text[19..];
        long fraction = 0;
        if (rest[0] == '.')
        {
            var digits = 0;
            while (digits + 1 < rest.Length && rest[digits + 1] is >= (byte)'0' and <= (byte)'9')
            {
                fraction = fraction * 10 + (rest[digits + 1] - '0');
                digits++;
            }

            if (digits is 0 or > 7)
            {
                return false;
            }

            for (var scale = digits; scale < 7; scale++)
            {
                fraction *= 10;
            }

            rest = rest[(digits + 1)..];
        }

        TimeSpan offset;
        if (rest.Length == 1 && rest[0] == 'Z')
        {
            offset = TimeSpan.Zero;
        }
        else if (rest.Length == 6 && rest[0] is (byte)'+' or (byte)'-' && rest[3] == ':' &&
                 TryDigits(rest.Slice(1, 2), out var offsetHours) && TryDigits(rest.Slice(4, 2), out var offsetMinutes) &&
                 offsetMinutes < 60 && offsetHours * 60 + offsetMinutes <= 14 * 60)
        {
            offset = new TimeSpan(offsetHours, offsetMinutes, 0);
            if (rest[0] == '-')
            {
                offset = -offset;
            }
        }
        else
        {
            return false;
        }

        value = new DateTimeOffset(new DateTime(year, month, day, hour, minute, second).AddTicks(fraction), offset);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = value * 10 + (b - '0');
        }

        return true;
    }

    /// <summary>
    /// The data object's fields for one type. Every name must be one the type reads and appear once; anything else
    /// (a duplicate, a field of another type, an unknown one) leaves the event to the exact path.
    /// </summary>
    private ref struct DataReader(Utf8JsonReader reader, bool present)
    {
        private Utf8JsonReader reader = reader;

        // The values read, by the position of their name in the names the caller passes.
        private double n0, n1;
        private double? o0, o1, o2;
        private bool b0;
        private string? t0;
        private int named; // every name met, to catch a duplicate even after a null
        private int seen; // the names with a value that is not null

        /// <summary>Reads every field; a field's slot is its index in <paramref name="names"/>.</summary>
        private bool ReadAll(string[] names, FieldKind[] kinds)
        {
            if (!present)
            {
                return true;
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    return true;
                }

                if (reader.ValueIsEscaped)
                {
                    return false;
                }

                var slot = -1;
                for (var i = 0; i < names.Length; i++)
                {
                    if (Ascii.Equals(reader.ValueSpan, names[i]))
                    {
                        slot = i;
                        break;
                    }
                }

                if (slot < 0 || (named & (1 << slot)) != 0 || !reader.Read())
                {
                    return false;
                }

                named |= 1 << slot;
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue; // null counts as absent
                }

                seen |= 1 << slot;

                if (!ReadValue(slot, kinds[slot]))
                {
                    return false;
                }
            }

            return false;
        }

        private bool ReadValue(int slot, FieldKind kind)
        {
            switch (kind)
            {
                case FieldKind.Number:
                case FieldKind.Integer:
                    if (!TryNumber(ref reader, out var number))
                    {
                        return false;
                    }

                    Set(slot, number);
                    return true;
                case FieldKind.Boolean:
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        return false;
                    }

                    b0 = reader.TokenType == JsonTokenType.True;
                    return true;
                case FieldKind.ShortText or FieldKind.LongText:
                    if (!TryPlainString(ref reader, kind == FieldKind.ShortText ? ShortText : LongText, out var text))
                    {
                        return false;
                    }

                    t0 = text;
                    return true;
                case FieldKind.Severity:
                    if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped)
                    {
                        return false;
                    }

                    var span = reader.ValueSpan;
                    Set(slot, span.SequenceEqual("minor"u8) ? (double)Events.Severity.Minor
                        : span.SequenceEqual("major"u8) ? (double)Events.Severity.Major
                        : span.SequenceEqual("critical"u8) ? (double)Events.Severity.Critical
                        : -1);
                    return n0 >= 0;
                default:
                    return false;
            }
        }

        private void Set(int slot, double value)
        {
            switch (slot)
            {
                case 0: n0 = value; o0 = value; break;
                case 1: n1 = value; o1 = value; break;
                case 2: o2 = value; break;
            }
        }

        private readonly bool Has(int slot) => (seen & (1 << slot)) != 0;

        private readonly bool InRange(int slot, double min, double max, bool integer)
        {
            var value = slot switch { 0 => o0, 1 => o1, _ => o2 };
            return value is not { } v || (v >= min && v <= max && (!integer || v == Math.Floor(v)));
        }

        private static readonly string[] OutageNames = ["reports", "baselineReports", "durationMinutes"];
        private static readonly FieldKind[] OutageKinds = [FieldKind.Integer, FieldKind.Integer, FieldKind.Number];
        private static readonly string[] CyberattackNames = ["claimed", "attribution"];
        private static readonly FieldKind[] CyberattackKinds = [FieldKind.Boolean, FieldKind.ShortText];
        private static readonly string[] ProtestNames = ["participants", "locations"];
        private static readonly FieldKind[] ProtestKinds = [FieldKind.Integer, FieldKind.Integer];
        private static readonly string[] SalesChangeNames = ["percent", "units", "period"];
        private static readonly FieldKind[] SalesChangeKinds = [FieldKind.Number, FieldKind.Integer, FieldKind.ShortText];
        private static readonly string[] StockChangeNames = ["percent", "closePrice"];
        private static readonly FieldKind[] StockChangeKinds = [FieldKind.Number, FieldKind.Number];
        private static readonly string[] NetWorthChangeNames = ["deltaUsd", "netWorthUsd"];
        private static readonly FieldKind[] NetWorthChangeKinds = [FieldKind.Number, FieldKind.Number];
        private static readonly string[] SeverityNames = ["severity", "description"];
        private static readonly FieldKind[] SeverityKinds = [FieldKind.Severity, FieldKind.LongText];

        private const int ShortText = EventJson.MaxShortTextLength;
        private const int LongText = EventJson.MaxTextLength;
        private const double MaxCount = 1e12, MaxLocations = 1e6, MaxPercent = 1e6, MaxMoney = 1e15, MaxDurationMinutes = 5_256_000;

        public OutageData? Outage()
        {
            if (!ReadAll(OutageNames, OutageKinds) ||
                !Has(0) || !InRange(0, 0, MaxCount, true) || !InRange(1, 0, MaxCount, true) || !InRange(2, 0, MaxDurationMinutes, false))
            {
                return null;
            }

            return new OutageData((long)n0, Has(1) ? (long)n1 : null, o2);
        }

        public CyberattackData? Cyberattack() =>
            ReadAll(CyberattackNames, CyberattackKinds)
                ? new CyberattackData(Has(0) && b0, t0)
                : null;

        public ProtestData? Protest()
        {
            if (!ReadAll(ProtestNames, ProtestKinds) ||
                !(Has(0) || Has(1)) || !InRange(0, 0, MaxCount, true) || !InRange(1, 0, MaxLocations, true))
            {
                return null;
            }

            return new ProtestData(Has(0) ? (long)n0 : null, Has(1) ? (int)n1 : null);
        }

        public SalesChangeData? SalesChange()
        {
            if (!ReadAll(SalesChangeNames, SalesChangeKinds) ||
                !Has(0) || !InRange(0, -100, MaxPercent, false) || !InRange(1, 0, MaxCount, true))
            {
                return null;
            }

            return new SalesChangeData(n0, Has(1) ? (long)n1 : null, t0);
        }

        public StockChangeData? StockChange()
        {
            if (!ReadAll(StockChangeNames, StockChangeKinds) ||
                !Has(0) || !InRange(0, -100, MaxPercent, false) || !InRange(1, 0, MaxMoney, false))
            {
                return null;
            }

            return new StockChangeData(n0, o1);
        }

        public NetWorthChangeData? NetWorthChange()
        {
            if (!ReadAll(NetWorthChangeNames, NetWorthChangeKinds) ||
                !Has(0) || !InRange(0, -MaxMoney, MaxMoney, false) || !InRange(1, 0, MaxMoney, false))
            {
                return null;
            }

            return new NetWorthChangeData(n0, o1);
        }

        public SeverityData? Severity() =>
            ReadAll(SeverityNames, SeverityKinds) && Has(0)
                ? new SeverityData((Events.Severity)n0, t0)
                : null;
    }

    private enum FieldKind : byte
    {
        Number,
        Integer,
        Boolean,
        ShortText,
        LongText,
        Severity,
    }
}
