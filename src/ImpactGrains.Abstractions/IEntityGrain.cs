using Orleans.Concurrency;

namespace ImpactGrains.Abstractions;

/// <summary>
/// One company, person or other entity: holds its scored events and answers impact queries. Keyed by the entity id.
/// </summary>
public interface IEntityGrain : IGrainWithStringKey
{
    /// <summary>
    /// Applies events already committed to the log, in entity-sequence order. Sequences already applied are skipped;
    /// a gap is filled from the log first, so a lost delivery never loses an event.
    /// </summary>
    Task ApplyAsync(EntityEventBatch batch);

    /// <summary>
    /// Makes sure every event up to <paramref name="throughSequence"/> is applied, reading what is missing from the
    /// log: how an append whose appender died before delivering reaches its grain.
    /// </summary>
    Task EnsureAppliedAsync(long throughSequence);

    /// <summary>Re-reads the entity's name, kind and links from the catalog after they changed.</summary>
    Task ReloadAsync();

    /// <summary>
    /// An entity linked into this one applied new events: pull them and report the new standing. One-way, so that the
    /// source never waits on the entities it feeds.
    /// </summary>
    [OneWay]
    Task InheritedChangedAsync();

    Task<ImpactReport> GetImpactAsync(DateTimeOffset at);

    Task<ExplainReport> ExplainAsync(DateTimeOffset at, int limit);

    /// <summary>
    /// <see cref="GetImpactAsync"/> with the entity's version stamp; without the report when the stamp is still
    /// <paramref name="knownVersion"/> (the caller holds that answer already: an HTTP 304).
    /// </summary>
    Task<VersionedImpact> GetImpactIfChangedAsync(DateTimeOffset at, long? knownVersion);

    /// <summary><see cref="ExplainAsync"/> with the version stamp, as <see cref="GetImpactIfChangedAsync"/>.</summary>
    Task<VersionedExplain> ExplainIfChangedAsync(DateTimeOffset at, int limit, long? knownVersion);

    Task<HistoryReport> GetHistoryAsync(IReadOnlyList<DateTimeOffset> points);

    /// <summary>
    /// The entity's own events after <paramref name="afterSequence"/>, for entities that inherit from it. It reads
    /// local state only and makes no calls, so it may interleave: two linked entities querying each other never deadlock.
    /// </summary>
    [AlwaysInterleave]
    Task<DirectEvents> GetDirectEventsAsync(long afterSequence);
}
