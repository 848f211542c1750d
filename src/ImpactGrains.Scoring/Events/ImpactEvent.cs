namespace ImpactGrains.Scoring.Events;

/// <summary>A validated event, as accepted into the log.</summary>
/// <param name="Id">The idempotency key: a second event with the same id is a duplicate.</param>
/// <param name="Entity">The registered entity the event is about.</param>
/// <param name="Region">An ISO 3166-1 alpha-2 code, or GLOBAL.</param>
/// <param name="Confidence">0–1; a disputed claim weighs less.</param>
public sealed record ImpactEvent(
    string Id,
    string Entity,
    EventType Type,
    DateTimeOffset OccurredAt,
    string Region,
    double Confidence,
    string? Source,
    EventData Data)
{
    public const string GlobalRegion = "GLOBAL";
}

/// <summary>The type-specific part of an event.</summary>
public abstract record EventData;

public sealed record OutageData(long Reports, long? BaselineReports, double? DurationMinutes) : EventData;

/// <param name="Claimed">True when the attack is only claimed, not confirmed.</param>
public sealed record CyberattackData(bool Claimed, string? Attribution) : EventData;

public sealed record ProtestData(long? Participants, int? Locations) : EventData;

public sealed record SalesChangeData(double Percent, long? Units, string? Period) : EventData;

public sealed record StockChangeData(double Percent, double? ClosePrice) : EventData;

public sealed record NetWorthChangeData(double DeltaUsd, double? NetWorthUsd) : EventData;

/// <summary>For product failures and statements, whose size is a severity judgement.</summary>
public sealed record SeverityData(Severity Severity, string? Description) : EventData;

/// <summary>
/// A spike in outage reports, declared or resolved by spike detection (or by an external detector), with the
/// evidence: the report count that decided it and the baseline it was measured against.
/// </summary>
public sealed record IncidentData(
    IncidentStatus Status,
    long Reports,
    double BaselineMean,
    double BaselineStdDev,
    double ZScore,
    DateTimeOffset StartedAt,
    long PeakReports) : EventData;

public enum IncidentStatus : byte
{
    Detected,
    Resolved,
}
