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
    public const int Count = 8;

    public static readonly IReadOnlyList<EventType> All = Enum.GetValues<EventType>();

    public static readonly IReadOnlyList<EventCategory> Categories = Enum.GetValues<EventCategory>();

    public static EventCategory CategoryOf(EventType type) => type switch
    {
        EventType.Outage or EventType.Cyberattack or EventType.ProductFailure => EventCategory.Operational,
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

    public static bool TryParse(string? name, out EventType type)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.WireName(), name, StringComparison.Ordinal))
            {
                type = candidate;
                return true;
            }
        }

        type = default;
        return false;
    }

    public static bool TryParseCategory(string? name, out EventCategory category)
    {
        foreach (var candidate in Categories)
        {
            if (string.Equals(candidate.WireName(), name, StringComparison.Ordinal))
            {
                category = candidate;
                return true;
            }
        }

        category = default;
        return false;
    }

    public static bool TryParseSeverity(string? name, out Severity severity)
    {
        foreach (var candidate in Enum.GetValues<Severity>())
        {
            if (string.Equals(candidate.WireName(), name, StringComparison.Ordinal))
            {
                severity = candidate;
                return true;
            }
        }

        severity = default;
        return false;
    }
}
