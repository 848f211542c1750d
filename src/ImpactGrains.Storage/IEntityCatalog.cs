using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;

namespace ImpactGrains.Storage;

public sealed record EntityRecord(string Id, string Name, EntityKind Kind, IReadOnlyList<string> Tags, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A directed link: <see cref="From"/>'s direct impact flows into <see cref="To"/>'s inherited impact at <see cref="Weight"/>.</summary>
public sealed record LinkRecord(string From, string To, double Weight, string Relation);

/// <summary>A group member and its weight in (0, 1].</summary>
public sealed record GroupMember(string Entity, double Weight);

/// <summary>A named set of entities whose scores combine by <see cref="Method"/>.</summary>
public sealed record GroupRecord(string Id, string Name, GroupMethod Method, IReadOnlyList<GroupMember> Members, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>An entity as a bulk registration gives it.</summary>
public sealed record EntityInput(string Id, string Name, EntityKind Kind, IReadOnlyList<string> Tags);

/// <summary>What an upsert did to one row.</summary>
public enum UpsertOutcome
{
    Created,

    /// <summary>It existed and something changed.</summary>
    Updated,

    /// <summary>It existed exactly so: nothing was written.</summary>
    Unchanged,
}

/// <summary>The registered entities, the links between them, and the groups they form.</summary>
public interface IEntityCatalog
{
    /// <summary>Creates or updates an entity; true when it was created.</summary>
    Task<bool> UpsertEntityAsync(string id, string name, EntityKind kind, IReadOnlyList<string> tags, CancellationToken cancellationToken = default);

    Task<EntityRecord?> FindEntityAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Whether the entity is registered. Entities are never removed, so a positive answer is cached.</summary>
    ValueTask<bool> ExistsAsync(string id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<EntityRecord>> ListEntitiesAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates or updates many entities in one transaction; outcomes in the order given.</summary>
    Task<IReadOnlyList<UpsertOutcome>> UpsertEntitiesAsync(IReadOnlyList<EntityInput> entities, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of entities in id order, after <paramref name="after"/>: those whose id or name contains
    /// <paramref name="query"/> (case-insensitive) and of <paramref name="kind"/>, when given.
    /// </summary>
    Task<IReadOnlyList<EntityRecord>> PageEntitiesAsync(string? after, int limit, string? query, EntityKind? kind, CancellationToken cancellationToken = default);

    /// <summary>Creates or updates many links in one transaction (both ends must exist); outcomes in the order given.</summary>
    Task<IReadOnlyList<UpsertOutcome>> UpsertLinksAsync(IReadOnlyList<LinkRecord> links, CancellationToken cancellationToken = default);

    /// <summary>Creates or updates a link; true when it was created.</summary>
    Task<bool> UpsertLinkAsync(LinkRecord link, CancellationToken cancellationToken = default);

    /// <summary>Removes a link; false when there was none.</summary>
    Task<bool> DeleteLinkAsync(string from, string to, CancellationToken cancellationToken = default);

    /// <summary>Every link that starts or ends at the entity.</summary>
    Task<IReadOnlyList<LinkRecord>> LinksOfAsync(string entity, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces a group; true when it was created.</summary>
    Task<bool> UpsertGroupAsync(string id, string name, GroupMethod method, IReadOnlyList<GroupMember> members, CancellationToken cancellationToken = default);

    Task<GroupRecord?> FindGroupAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Groups in id order: all of them, or a page of at most <paramref name="limit"/> after the id <paramref name="after"/>.</summary>
    Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(string? after = null, int? limit = null, CancellationToken cancellationToken = default);
}
