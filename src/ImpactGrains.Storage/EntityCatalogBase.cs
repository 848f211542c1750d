namespace ImpactGrains.Storage;

/// <summary>
/// What the two entity catalogs share above their SQL: the cache of known entities (<see cref="KnownEntities"/>) and
/// the reads built on the provider's two entity queries, so that a provider holds only its statements.
/// </summary>
public abstract class EntityCatalogBase
{
    private protected KnownEntities Known { get; } = new();

    public async Task<EntityRecord?> FindEntityAsync(string id, CancellationToken cancellationToken = default) =>
        (await QueryEntitiesAsync(id, cancellationToken)).FirstOrDefault();

    /// <summary>Ingestion asks this for every event: a known entity costs no query.</summary>
    public ValueTask<bool> ExistsAsync(string id, CancellationToken cancellationToken = default) =>
        Known.Contains(id) ? new(true) : LookUpAsync(id, cancellationToken);

    public Task<IReadOnlyList<EntityRecord>> ListEntitiesAsync(CancellationToken cancellationToken = default) =>
        QueryEntitiesAsync(null, cancellationToken);

    private async ValueTask<bool> LookUpAsync(string id, CancellationToken cancellationToken) =>
        Known.Found(id, await EntityRowExistsAsync(id, cancellationToken));

    /// <summary>The provider's query of entities in id order: all of them, or only the one with <paramref name="id"/>.</summary>
    private protected abstract Task<IReadOnlyList<EntityRecord>> QueryEntitiesAsync(string? id, CancellationToken cancellationToken);

    /// <summary>The provider's query of whether the entity's row exists.</summary>
    private protected abstract Task<bool> EntityRowExistsAsync(string id, CancellationToken cancellationToken);
}
