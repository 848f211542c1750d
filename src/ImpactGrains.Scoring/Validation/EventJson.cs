using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Scoring.Validation;

/// <summary>The outcome of reading one event: the event, or why it was refused.</summary>
/// <param name="Id">The event's id where it could be read, so a rejection can name it.</param>
public readonly record struct EventParseResult(ImpactEvent? Event, string? Id, string? Error)
{
    public static EventParseResult Fail(string? id, string error) => new(null, id, error);
}

/// <summary>
/// Reads and writes the JSON form of an event. Reading validates every field; writing produces the
/// normalised form that the event log stores, which reads back to an identical event.
/// </summary>
public static partial class EventJson
{
    public const int MaxIdLength = 200;
    public const int MaxSourceLength = 500;
    public const int MaxTextLength = 2000;
    public const int MaxShortTextLength = 200;

    /// <summary>How sure the reporter is, from 0 (not at all) to 1 (the default).</summary>
    public const double MinConfidence = 0;
    public const double MaxConfidence = 1;

    /// <summary>Events may claim to have happened at most this far in the future (clock skew).</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    public static readonly DateTimeOffset EarliestOccurredAt = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // RFC 3339 date-time: a full date, a time, and a mandatory offset. ASCII digits and \z: \d takes any Unicode digit
    // and $ a trailing newline, neither of which RFC 3339 allows.
    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?([Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    /// <summary>Parses an RFC 3339 timestamp with an offset; null when it is not one.</summary>
    public static DateTimeOffset? ParseTimestamp(string? text)
    {
        if (text is null || !Rfc3339().IsMatch(text))
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value) ? value : null;
    }

    public static string FormatTimestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads one event.</summary>
    /// <param name="latestAllowed">Events later than this are refused; null skips the check (replaying the log).</param>
    public static EventParseResult Parse(JsonElement element, DateTimeOffset? latestAllowed)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return EventParseResult.Fail(null, $"an event must be a JSON object, not {Describe(element.ValueKind)}");
        }

        JsonElement? id = null, entity = null, type = null, occurredAt = null, region = null, confidence = null, source = null, data = null;
        JsonElement? ignored = null;
        foreach (var property in element.EnumerateObject())
        {
            ref JsonElement? slot = ref ignored;
            switch (property.Name)
            {
                case "id": slot = ref id; break;
                case "entity": slot = ref entity; break;
                case "type": slot = ref type; break;
                case "occurredAt": slot = ref occurredAt; break;
                case "region": slot = ref region; break;
                case "confidence": slot = ref confidence; break;
                case "source": slot = ref source; break;
                case "data": slot = ref data; break;
                default: continue; // Unknown fields are ignored (and not stored) so that producers may add fields.
            }

            if (slot is not null)
            {
                return EventParseResult.Fail(TryReadId(element), $"duplicate property '{property.Name}'");
            }

            slot = property.Value;
        }

        if (id is not { ValueKind: JsonValueKind.String } || id.Value.GetString() is not { Length: > 0 and <= MaxIdLength } idText)
        {
            return EventParseResult.Fail(null, $"id: required string of 1–{MaxIdLength} characters");
        }

        if (ContainsControl(idText))
        {
            return EventParseResult.Fail(null, "id: must not contain control characters");
        }

        EventParseResult Fail(string error) => EventParseResult.Fail(idText, error);

        if (entity is not { ValueKind: JsonValueKind.String })
        {
            return Fail("entity: required string");
        }

        var entityId = entity.Value.GetString();
        if (!EntityIds.IsValid(entityId))
        {
            return Fail("entity: " + EntityIds.Describe(entityId));
        }

        if (type is not { ValueKind: JsonValueKind.String })
        {
            return Fail("type: required string");
        }

        if (!EventTypes.TryParse(type.Value.GetString(), out var eventType))
        {
            return Fail($"type: unknown event type '{EntityIds.Truncate(type.Value.GetString())}'; expected one of {string.Join(", ", EventTypes.All.Select(t => t.WireName()))}");
        }

        if (occurredAt is not { ValueKind: JsonValueKind.String })
        {
            return Fail("occurredAt: required RFC 3339 timestamp with an offset, such as 2025-03-10T14:00:00Z");
        }

        var when = ParseTimestamp(occurredAt.Value.GetString());
        if (when is null)
        {
            return Fail($"occurredAt: '{EntityIds.Truncate(occurredAt.Value.GetString())}' is not an RFC 3339 timestamp with an offset, such as 2025-03-10T14:00:00Z");
        }

        if (when.Value < EarliestOccurredAt)
        {
            return Fail("occurredAt: must not be before 1900-01-01");
        }

        if (latestAllowed is { } latest && when.Value > latest)
        {
            return Fail($"occurredAt: {FormatTimestamp(when.Value)} is in the future");
        }

        var regionCode = ImpactEvent.GlobalRegion;
        if (region is { ValueKind: not JsonValueKind.Null } r)
        {
            if (r.ValueKind != JsonValueKind.String || !Regions.TryNormalize(r.GetString()!, out regionCode))
            {
                return Fail("region: must be an ISO 3166-1 alpha-2 code (such as US or DE) or GLOBAL");
            }
        }

        var confidenceValue = 1.0;
        if (confidence is { ValueKind: not JsonValueKind.Null } c)
        {
            if (!TryReadNumber(c, out confidenceValue) || confidenceValue is < MinConfidence or > MaxConfidence)
            {
                return Fail("confidence: must be a number from 0 to 1");
            }
        }

        string? sourceText = null;
        if (source is { ValueKind: not JsonValueKind.Null } s)
        {
            if (!TryReadText(s, MaxSourceLength, out sourceText))
            {
                return Fail($"source: must be a string of at most {MaxSourceLength} characters without control characters");
            }
        }

        if (data is { ValueKind: not JsonValueKind.Object and not JsonValueKind.Null })
        {
            return Fail("data: must be a JSON object");
        }

        var dataError = ParseData(eventType, data is { ValueKind: JsonValueKind.Object } d ? d : null, out var eventData);
        if (dataError is not null)
        {
            return Fail(dataError);
        }

        return new EventParseResult(
            new ImpactEvent(idText, entityId!, eventType, when.Value.ToUniversalTime(), regionCode, confidenceValue, sourceText, eventData!),
            idText,
            null);
    }

    private static string? ParseData(EventType type, JsonElement? data, out EventData? result)
    {
        result = null;
        var fields = new DataFields(data);
        if (fields.Duplicate is { } duplicate)
        {
            return $"data: duplicate property '{duplicate}'";
        }

        switch (type)
        {
            case EventType.Outage:
            {
                if (fields.Integer("reports", 0, MaxCount, required: true, out var reports) is { } e1) return e1;
                if (fields.Integer("baselineReports", 0, MaxCount, required: false, out var baseline) is { } e2) return e2;
                if (fields.Number("durationMinutes", 0, MaxDurationMinutes, required: false, out var duration) is { } e3) return e3;
                result = new OutageData(reports!.Value, baseline, duration);
                return null;
            }

            case EventType.Cyberattack:
            {
                bool claimed = false;
                if (fields.Get("claimed") is { ValueKind: not JsonValueKind.Null } claimedElement)
                {
                    if (claimedElement.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        return "data.claimed: must be true or false";
                    }

                    claimed = claimedElement.GetBoolean();
                }

                if (fields.Text("attribution", MaxShortTextLength, out var attribution) is { } e1) return e1;
                result = new CyberattackData(claimed, attribution);
                return null;
            }

            case EventType.Protest:
            {
                if (fields.Integer("participants", 0, MaxCount, required: false, out var participants) is { } e1) return e1;
                if (fields.Integer("locations", 0, MaxLocations, required: false, out var locations) is { } e2) return e2;
                if (participants is null && locations is null)
                {
                    return "data: a protest needs participants or locations (or both)";
                }

                result = new ProtestData(participants, (int?)locations);
                return null;
            }

            case EventType.SalesChange:
            {
                if (fields.Number("percent", MinPercent, MaxPercent, required: true, out var percent) is { } e1) return e1;
                if (fields.Integer("units", 0, MaxCount, required: false, out var units) is { } e2) return e2;
                if (fields.Text("period", MaxShortTextLength, out var period) is { } e3) return e3;
                result = new SalesChangeData(percent!.Value, units, period);
                return null;
            }

            case EventType.StockChange:
            {
                if (fields.Number("percent", MinPercent, MaxPercent, required: true, out var percent) is { } e1) return e1;
                if (fields.Number("closePrice", 0, MaxMoney, required: false, out var close) is { } e2) return e2;
                result = new StockChangeData(percent!.Value, close);
                return null;
            }

            case EventType.NetWorthChange:
            {
                if (fields.Number("deltaUsd", -MaxMoney, MaxMoney, required: true, out var delta) is { } e1) return e1;
                if (fields.Number("netWorthUsd", 0, MaxMoney, required: false, out var netWorth) is { } e2) return e2;
                result = new NetWorthChangeData(delta!.Value, netWorth);
                return null;
            }

            case EventType.ProductFailure:
            case EventType.Statement:
            {
                var severityElement = fields.Get("severity");
                if (severityElement is not { ValueKind: JsonValueKind.String } || !EventTypes.TryParseSeverity(severityElement.Value.GetString(), out var severity))
                {
                    return "data.severity: required, one of minor, major, critical";
                }

                if (fields.Text("description", MaxTextLength, out var description) is { } e1) return e1;
                result = new SeverityData(severity, description);
                return null;
            }

            case EventType.Incident:
            {
                var statusElement = fields.Get("status");
                var status = statusElement is { ValueKind: JsonValueKind.String } ? statusElement.Value.GetString() : null;
                if (status is not (IncidentDetected or IncidentResolved))
                {
                    return $"data.status: required, {IncidentDetected} or {IncidentResolved}";
                }

                if (fields.Integer("reports", 0, MaxCount, required: true, out var reports) is { } e1) return e1;
                if (fields.Number("baselineMean", 0, MaxCount, required: true, out var mean) is { } e2) return e2;
                if (fields.Number("baselineStdDev", 0, MaxCount, required: true, out var stdDev) is { } e3) return e3;
                if (fields.Number("zScore", -MaxCount, MaxCount, required: true, out var z) is { } e4) return e4;
                if (fields.Integer("peakReports", 0, MaxCount, required: false, out var peak) is { } e5) return e5;
                var startedElement = fields.Get("startedAt");
                var started = startedElement is { ValueKind: JsonValueKind.String } ? ParseTimestamp(startedElement.Value.GetString()) : null;
                if (started is null)
                {
                    return "data.startedAt: required RFC 3339 timestamp with an offset";
                }

                result = new IncidentData(status == IncidentDetected ? IncidentStatus.Detected : IncidentStatus.Resolved,
                    reports!.Value, mean!.Value, stdDev!.Value, z!.Value, started.Value.ToUniversalTime(), peak ?? reports.Value);
                return null;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    // The bounds of the data fields, public for the API's document, which states them from here.
    public const double MaxCount = 1e12;
    public const double MaxLocations = 1e6;
    public const double MinPercent = -100;
    public const double MaxPercent = 1e6;
    public const double MaxMoney = 1e15;
    public const double MaxDurationMinutes = 5_256_000; // ten years
    public const string IncidentDetected = "detected";
    public const string IncidentResolved = "resolved";

    /// <summary>The data object's fields, read once so that duplicates are caught.</summary>
    private readonly struct DataFields
    {
        private readonly Dictionary<string, JsonElement>? values;

        public DataFields(JsonElement? data)
        {
            if (data is not { } d)
            {
                return;
            }

            values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in d.EnumerateObject())
            {
                if (!values.TryAdd(property.Name, property.Value))
                {
                    Duplicate ??= property.Name;
                }
            }
        }

        public string? Duplicate { get; }

        public JsonElement? Get(string name) =>
            values is not null && values.TryGetValue(name, out var value) ? value : null;

        public string? Integer(string name, double min, double max, bool required, out long? value)
        {
            value = null;
            var element = Get(name);
            if (element is null || element.Value.ValueKind == JsonValueKind.Null)
            {
                return required ? $"data.{name}: required integer from {Format(min)} to {Format(max)}" : null;
            }

            if (!TryReadNumber(element.Value, out var number) || number != Math.Floor(number) || number < min || number > max)
            {
                return $"data.{name}: must be an integer from {Format(min)} to {Format(max)}";
            }

            value = (long)number;
            return null;
        }

        public string? Number(string name, double min, double max, bool required, out double? value)
        {
            value = null;
            var element = Get(name);
            if (element is null || element.Value.ValueKind == JsonValueKind.Null)
            {
                return required ? $"data.{name}: required number from {Format(min)} to {Format(max)}" : null;
            }

            if (!TryReadNumber(element.Value, out var number) || number < min || number > max)
            {
                return $"data.{name}: must be a number from {Format(min)} to {Format(max)}";
            }

            value = number;
            return null;
        }

        public string? Text(string name, int maxLength, out string? value)
        {
            value = null;
            var element = Get(name);
            if (element is null || element.Value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return TryReadText(element.Value, maxLength, out value)
                ? null
                : $"data.{name}: must be a string of at most {maxLength} characters without control characters";
        }

        private static string Format(double value) => value.ToString("G", CultureInfo.InvariantCulture);
    }

    private static bool TryReadNumber(JsonElement element, out double value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out value) && double.IsFinite(value);
    }

    private static bool TryReadText(JsonElement element, int maxLength, out string? value)
    {
        value = element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        return value is not null && value.Length <= maxLength && !ContainsControl(value);
    }

    private static bool ContainsControl(string value)
    {
        foreach (var ch in value)
        {
            if (char.IsControl(ch))
            {
                return true;
            }
        }

        return false;
    }

    private static string? TryReadId(JsonElement element)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name == "id" && property.Value.ValueKind == JsonValueKind.String)
            {
                return property.Value.GetString();
            }
        }

        return null;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>Writes the normalised form of an event, the form the log stores.</summary>
    public static void Write(Utf8JsonWriter writer, ImpactEvent e)
    {
        writer.WriteStartObject();
        WriteProperties(writer, e);
        writer.WriteEndObject();
    }

    /// <summary>Writes the event's properties into an object the caller has started.</summary>
    public static void WriteProperties(Utf8JsonWriter writer, ImpactEvent e)
    {
        writer.WriteString("id", e.Id);
        writer.WriteString("entity", e.Entity);
        writer.WriteString("type", e.Type.WireName());
        writer.WriteString("occurredAt", FormatTimestamp(e.OccurredAt));
        writer.WriteString("region", e.Region);
        writer.WriteNumber("confidence", e.Confidence);
        if (e.Source is not null)
        {
            writer.WriteString("source", e.Source);
        }

        writer.WriteStartObject("data");
        switch (e.Data)
        {
            case OutageData o:
                writer.WriteNumber("reports", o.Reports);
                WriteOptional(writer, "baselineReports", o.BaselineReports);
                WriteOptional(writer, "durationMinutes", o.DurationMinutes);
                break;
            case CyberattackData c:
                writer.WriteBoolean("claimed", c.Claimed);
                WriteOptional(writer, "attribution", c.Attribution);
                break;
            case ProtestData p:
                WriteOptional(writer, "participants", p.Participants);
                WriteOptional(writer, "locations", p.Locations);
                break;
            case SalesChangeData s:
                writer.WriteNumber("percent", s.Percent);
                WriteOptional(writer, "units", s.Units);
                WriteOptional(writer, "period", s.Period);
                break;
            case StockChangeData s:
                writer.WriteNumber("percent", s.Percent);
                WriteOptional(writer, "closePrice", s.ClosePrice);
                break;
            case NetWorthChangeData n:
                writer.WriteNumber("deltaUsd", n.DeltaUsd);
                WriteOptional(writer, "netWorthUsd", n.NetWorthUsd);
                break;
            case SeverityData s:
                writer.WriteString("severity", s.Severity.WireName());
                WriteOptional(writer, "description", s.Description);
                break;
            case IncidentData i:
                writer.WriteString("status", i.Status == IncidentStatus.Detected ? IncidentDetected : IncidentResolved);
                writer.WriteNumber("reports", i.Reports);
                writer.WriteNumber("baselineMean", i.BaselineMean);
                writer.WriteNumber("baselineStdDev", i.BaselineStdDev);
                writer.WriteNumber("zScore", i.ZScore);
                writer.WriteString("startedAt", FormatTimestamp(i.StartedAt));
                writer.WriteNumber("peakReports", i.PeakReports);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(e), e.Data, "unknown event data");
        }

        writer.WriteEndObject();
    }

    public static string Serialize(ImpactEvent e)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, e);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads an event back from the log's normalised form.</summary>
    public static ImpactEvent Deserialize(string json)
    {
        using var document = JsonDocument.Parse(json);
        var result = Parse(document.RootElement, latestAllowed: null);
        return result.Event ?? throw new InvalidDataException($"stored event is invalid: {result.Error}");
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } v) writer.WriteNumber(name, v);
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v) writer.WriteNumber(name, v);
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null) writer.WriteString(name, value);
    }
}
