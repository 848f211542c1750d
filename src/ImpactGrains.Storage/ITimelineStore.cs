namespace ImpactGrains.Storage;

/// <summary>One stored chunk of an entity timeline's sealed intervals (Scoring's TimelineCodec), in one of its versions.</summary>
public sealed record TimelineChunk(int Index, int Version, byte[] Data);

/// <summary>
/// Where entity grains keep the sealed past of their timelines (the checkpoints), beside their snapshots: a snapshot
/// holds only the live part and names the version of each chunk it goes with. A chunk is written as a new version,
/// never over the version a stored snapshot names, so a snapshot and its chunks always agree, whatever fails between
/// the two writes.
/// </summary>
public interface ITimelineStore
{
    Task SaveAsync(string entity, string generation, IReadOnlyList<TimelineChunk> chunks, CancellationToken cancellationToken = default);

    /// <summary>Every stored chunk version of the entity's timeline generation.</summary>
    Task<IReadOnlyList<TimelineChunk>> LoadAsync(string entity, string generation, CancellationToken cancellationToken = default);

    /// <summary>One version of one chunk, or null when it is not stored: how a timeline reads back a page it let go of.</summary>
    Task<byte[]?> LoadChunkAsync(string entity, string generation, int chunk, int version, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes what the snapshot just written no longer names: older versions of <paramref name="current"/>'s chunks,
    /// and every other generation of the entity's timeline.
    /// </summary>
    Task PruneAsync(string entity, string generation, IReadOnlyList<TimelineChunk> current, CancellationToken cancellationToken = default);
}
