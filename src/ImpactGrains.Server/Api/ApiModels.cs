using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Api;

public sealed record LinkResponse(string From, string To, double Weight, string Relation)
{
    public static LinkResponse Of(LinkRecord link) => new(link.From, link.To, link.Weight, link.Relation);
}

public sealed record EntityResponse(
    string Id,
    string Name,
    string Kind,
    IReadOnlyList<string> Tags,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<LinkResponse> Links)
{
    public static EntityResponse From(EntityRecord entity, IReadOnlyList<LinkRecord> links) => new(
        entity.Id, entity.Name, entity.Kind.WireName(), entity.Tags, entity.CreatedAt, entity.UpdatedAt,
        links.Select(LinkResponse.Of).ToList());
}

public sealed record EntitySummary(string Id, string Name, string Kind, double Score);

public sealed record LeaderboardEntry(string Entity, string Name, string Kind, double Score);

public sealed record LeaderboardResponse(DateTimeOffset At, string? Kind, string? Category, string? Region, IReadOnlyList<LeaderboardEntry> Entries);

public sealed record EventsPage(string Entity, IReadOnlyList<LoggedEvent> Events);
