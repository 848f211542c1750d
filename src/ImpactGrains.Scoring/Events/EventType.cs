namespace ImpactGrains.Scoring.Events;

/// <summary>The kinds of incident and market event that move an entity's standing.</summary>
public enum EventType : byte
{
    Outage,
    Cyberattack,
    Protest,
    SalesChange,
    StockChange,
    NetWorthChange,
    ProductFailure,
    Statement,

    /// <summary>An outage spike detected (or resolved) from report counts, with the evidence.</summary>
    Incident,
}

/// <summary>Where an event type's impact is counted.</summary>
public enum EventCategory : byte
{
    Operational,
    Market,
    Financial,
    Reputational,
}

/// <summary>Severity levels for events whose size is a judgement rather than a number.</summary>
public enum Severity : byte
{
    Minor,
    Major,
    Critical,
}

public static class EventTypes
{
    public const int Count = 9;

    public static readonly IReadOnlyList<EventType> All = Enum.GetValues<EventType>();

    public static readonly IReadOnlyList<EventCategory> Categories = Enum.GetValues<EventCategory>();

    public static EventCategory CategoryOf(EventType type) => type switch
    {
        EventType.Outage or EventType.Cyberattack or EventType.ProductFailure or EventType.Incident => EventCategory.Operational,
        EventType.StockChange or EventType.SalesChange => EventCategory.Market,
        EventType.NetWorthChange => EventCategory.Financial,
        EventType.Protest or EventType.Statement => EventCategory.Reputational,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The wire name, as in the JSON contract ("sales-change").</summary>
    public static string WireName(this EventType type) => type switch
    {
        EventType.Outage => "outage",
        EventType.Cyberattack => "cyberattack",
        EventType.Protest => "protest",
        EventType.SalesChange => "sales-change",
        EventType.StockChange => "stock-change",
        EventType.NetWorthChange => "net-worth-change",
        EventType.ProductFailure => "product-failure",
        EventType.Statement => "statement",
        EventType.Incident => "incident",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static string WireName(this EventCategory category) => category switch
    {
        EventCategory.Operational => "operational",
        EventCategory.Market => "market",
        EventCategory.Financial => "financial",
        EventCategory.Reputational => "reputational",
        _ => throw new ArgumentOutOfRangeException(nameof(category), category, null),
    };

    public static string WireName(this Severity severity) => severity switch
    {
        Severity.Minor => "minor",
        Severity.Major => "major",
        Severity.Critical => "critical",
        _ => throw new ArgumentOutOfRangeException(nameof(severity), severity, null),
    };

    public static bool TryParse(string? name, out EventType type) => WireNames.TryParse(name, WireName, out type);

    public static bool TryParseCategory(string? name, out EventCategory category) => WireNames.TryParse(name, WireName, out category);

    public static bool TryParseSeverity(string? name, out Severity severity) => WireNames.TryParse(name, WireName, out severity);
}

/// <summary>Reads an enum from its wire name, exactly (case-sensitive), as the JSON contract spells it.</summary>
public static class WireNames
{
    public static bool TryParse<T>(string? name, Func<T, string> wireName, out T value)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(wireName(candidate), name, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
