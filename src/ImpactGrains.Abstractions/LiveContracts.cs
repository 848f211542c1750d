using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Ranking;

namespace ImpactGrains.Abstractions;

/// <summary>An entity's impact vector at an instant, as it reports it to its leaderboard partition.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed record StandingReport(
    [property: Id(0)] string Entity,
    [property: Id(1)] string Name,
    [property: Id(2)] EntityKindCode Kind,
    [property: Id(3)] long AtTicks,
    [property: Id(4)] double[] Direct,
    [property: Id(5)] double[] Inherited,
    [property: Id(6)] Dictionary<string, double[]> Regions)
{
    public Standing ToStanding() =>
        new(Entity, Name, (EntityKind)Kind, new ImpactVector(AtTicks, Direct, Inherited, Regions));

    public static StandingReport From(string entity, string name, EntityKind kind, ImpactVector vector) =>
        new(entity, name, (EntityKindCode)kind, vector.AtTicks, vector.Direct, vector.Inherited, vector.Regions);
}

/// <summary><see cref="EntityKind"/> as Orleans serializes it (the domain enum carries no Orleans attributes).</summary>
[GenerateSerializer]
public enum EntityKindCode : byte
{
    Company = EntityKind.Company,
    Person = EntityKind.Person,
    Organization = EntityKind.Organization,
    Product = EntityKind.Product,
}

/// <summary><see cref="EventCategory"/> as Orleans serializes it, for a leaderboard by category.</summary>
[GenerateSerializer]
public enum EventCategoryCode : byte
{
    Operational = EventCategory.Operational,
    Market = EventCategory.Market,
    Financial = EventCategory.Financial,
    Reputational = EventCategory.Reputational,
}

/// <summary>A place on a leaderboard; the kind stays an enum until the HTTP answer writes its wire name.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed record RankedEntry(
    [property: Id(0)] string Entity,
    [property: Id(1)] string Name,
    [property: Id(2)] EntityKindCode Kind,
    [property: Id(3)] double Score);

/// <summary>
/// One message of the live feed: a typed event, numbered. <see cref="Id"/> orders messages within one
/// <see cref="Epoch"/> (an activation of the feed grain), which is what lets a client resume with Last-Event-ID. JSON
/// is written only at the edge, for the stream's clients (the server's LiveEventJson), and nothing parses it back.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed record LiveMessage([property: Id(0)] string Epoch, [property: Id(1)] long Id, [property: Id(2)] LiveEvent Event)
{
    public static LiveMessage Unnumbered(LiveEvent e) => new("", 0, e);

    /// <summary>The stream's event name: score, incident or alert.</summary>
    public string Type => Event.Type;

    public string? Entity => Event.Entity;

    public string? EntityKind => Event.EntityKind;

    public string? Group => Event.Group;

    public DateTimeOffset At => Event.At;
}

/// <summary>What the live feed carries.</summary>
[GenerateSerializer, Immutable]
public abstract record LiveEvent
{
    public abstract string Type { get; }

    /// <summary>The entity the event is about, if any (a group alert has none).</summary>
    public abstract string? Entity { get; }

    public abstract string? EntityKind { get; }

    public virtual string? Group => null;

    public abstract DateTimeOffset At { get; }
}

/// <summary>
/// An entity's score changed (own or inherited events); from its leaderboard partition, at most once per publication.
/// Orleans carries it as a <see cref="ScoreChangedSurrogate"/>.
/// </summary>
[Immutable]
public sealed record ScoreChanged(
    string EntityId,
    string Name,
    string Kind,
    DateTimeOffset When,
    double Score,
    double Direct,
    double Inherited,
    IReadOnlyDictionary<string, double> Categories,
    IReadOnlyDictionary<string, double> Regions) : LiveEvent
{
    public const string TypeName = "score";

    public override string Type => TypeName;

    public override string? Entity => EntityId;

    public override string? EntityKind => Kind;

    public override DateTimeOffset At => When;
}

/// <summary>Spike detection declared or resolved an incident: the incident event as logged.</summary>
[GenerateSerializer, Immutable]
public sealed record IncidentLogged(
    [property: Id(0)] string EventId,
    [property: Id(1)] string EntityId,
    [property: Id(2)] string Kind,
    [property: Id(3)] DateTimeOffset OccurredAt,
    [property: Id(4)] string Region,
    [property: Id(5)] string? Source,
    [property: Id(6)] bool Detected,
    [property: Id(7)] long Reports,
    [property: Id(8)] double BaselineMean,
    [property: Id(9)] double BaselineStdDev,
    [property: Id(10)] double ZScore,
    [property: Id(11)] DateTimeOffset StartedAt,
    [property: Id(12)] long PeakReports) : LiveEvent
{
    public const string TypeName = "incident";

    public override string Type => TypeName;

    public override string? Entity => EntityId;

    public override string? EntityKind => Kind;

    public override DateTimeOffset At => OccurredAt;

    public static IncidentLogged Of(ImpactEvent e, string kind)
    {
        var incident = (IncidentData)e.Data;
        return new IncidentLogged(e.Id, e.Entity, kind, e.OccurredAt, e.Region, e.Source, incident.Status == IncidentStatus.Detected,
            incident.Reports, incident.BaselineMean, incident.BaselineStdDev, incident.ZScore, incident.StartedAt, incident.PeakReports);
    }

    /// <summary>The incident as the log holds it.</summary>
    public ImpactEvent ToEvent() =>
        new(EventId, EntityId, EventType.Incident, OccurredAt, Region, 1.0, Source,
            new IncidentData(Detected ? IncidentStatus.Detected : IncidentStatus.Resolved, Reports, BaselineMean, BaselineStdDev, ZScore, StartedAt, PeakReports));
}

/// <summary>An alert rule fired.</summary>
[GenerateSerializer, Immutable]
public sealed record AlertFired(
    [property: Id(0)] string AlertId,
    [property: Id(1)] string Rule,
    [property: Id(2)] string Target,
    [property: Id(3)] string Metric,
    [property: Id(4)] string? AlertEntity,
    [property: Id(5)] string? AlertGroup,
    [property: Id(6)] double Value,
    [property: Id(7)] double Threshold,
    [property: Id(8)] DateTimeOffset When) : LiveEvent
{
    public const string TypeName = "alert";

    public override string Type => TypeName;

    /// <summary>An entity alert is about its entity; a group alert about its group only.</summary>
    public override string? Entity => AlertGroup is null ? AlertEntity : null;

    public override string? EntityKind => null;

    public override string? Group => AlertGroup;

    public override DateTimeOffset At => When;
}
