using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Ranking;

namespace ImpactGrains.Abstractions;

/// <summary>An entity's impact vector at an instant, as it reports it to its leaderboard partition.</summary>
[GenerateSerializer, Immutable]
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

[GenerateSerializer, Immutable]
public sealed record RankedEntry(
    [property: Id(0)] string Entity,
    [property: Id(1)] string Name,
    [property: Id(2)] string Kind,
    [property: Id(3)] double Score);

/// <summary>
/// One message of the live feed. <see cref="Id"/> orders messages within one <see cref="Epoch"/> (an activation of
/// the feed grain), which is what lets a client resume with Last-Event-ID.
/// </summary>
/// <param name="Type">score, alert or incident.</param>
/// <param name="Data">The message body, JSON.</param>
[GenerateSerializer, Immutable]
public sealed record LiveMessage(
    [property: Id(0)] string Epoch,
    [property: Id(1)] long Id,
    [property: Id(2)] string Type,
    [property: Id(3)] string? Entity,
    [property: Id(4)] string? EntityKind,
    [property: Id(5)] string? Group,
    [property: Id(6)] DateTimeOffset At,
    [property: Id(7)] string Data);
