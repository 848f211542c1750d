namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// What a snapshot writes next, and names: the stored version of each chunk of sealed intervals (<see cref="TimelineCodec"/>),
/// and the chunks changed since. Each write stores its changed chunks as a new version, one more than the last write of
/// the generation (a timeline build), so that a snapshot never pairs with a chunk newer than it knew; a write counts only
/// once stored, so a failed one is written again in full by the next. A rebuilt timeline starts a new generation.
/// </summary>
public sealed class TimelineChunkBook(string generation)
{
    private int[] versions = [];
    private readonly SortedSet<int> unsaved = [];

    /// <summary>The timeline build the chunks belong to.</summary>
    public string Generation { get; private set; } = generation;

    /// <summary>For each chunk, the version the last stored snapshot names.</summary>
    public IReadOnlyList<int> Versions => versions;

    /// <summary>How many snapshots of this generation were stored: the next writes version one more.</summary>
    public int SaveNumber { get; private set; }

    /// <summary>Whether a chunk changed since it was last stored (or a write of it failed).</summary>
    public bool HasUnsaved => unsaved.Count > 0;

    /// <summary>Whether the timeline was built again since a snapshot was last stored: no snapshot names its generation.</summary>
    public bool RebuiltSinceStored { get; private set; }

    /// <summary>A generation name for a timeline built under the model of <paramref name="modelIdentity"/>; unique to the build.</summary>
    public static string NewGeneration(string modelIdentity) => $"{modelIdentity}/{Guid.NewGuid():N}";

    /// <summary>Takes the versions a restored snapshot names.</summary>
    public void Restore(string generation, IReadOnlyList<int> chunkVersions, int saveNumber) =>
        (Generation, versions, SaveNumber) = (generation, [.. chunkVersions], saveNumber);

    /// <summary>The stored version of <paramref name="chunk"/> of <paramref name="ofGeneration"/>; false when this book no longer names it.</summary>
    public bool TryGetVersion(string ofGeneration, int chunk, out int version)
    {
        var named = ofGeneration == Generation && chunk < versions.Length;
        version = named ? versions[chunk] : 0;
        return named;
    }

    /// <summary>
    /// The next write: every unsaved chunk, with those of <paramref name="dirtyIntervals"/> (the timeline's changes
    /// since it was last asked), at the next version, and the versions the snapshot will name once it is stored.
    /// </summary>
    public ChunkWrite PlanWrite(IEnumerable<int> dirtyIntervals, int intervalCount)
    {
        foreach (var chunk in TimelineCodec.ChunksOf(dirtyIntervals))
        {
            unsaved.Add(chunk);
        }

        var version = SaveNumber + 1;
        var chunks = unsaved.ToArray();
        var named = new int[Math.Max(versions.Length, TimelineCodec.ChunkCount(intervalCount))];
        versions.CopyTo(named, 0);
        foreach (var chunk in chunks)
        {
            named[chunk] = version;
        }

        return new ChunkWrite(Generation, version, chunks, named);
    }

    /// <summary>
    /// A planned write was stored: its chunks are saved, unless the timeline was rebuilt meanwhile (its versions are
    /// the old generation's, then). False when it was.
    /// </summary>
    public bool Commit(ChunkWrite write)
    {
        if (write.Generation != Generation)
        {
            return false;
        }

        (SaveNumber, versions, RebuiltSinceStored) = (write.Version, write.ChunkVersions, false);
        foreach (var chunk in write.Chunks)
        {
            unsaved.Remove(chunk);
        }

        return true;
    }

    /// <summary>
    /// A timeline built again from the log, in memory only: a new generation, nothing stored yet, and every chunk of
    /// its <paramref name="intervalCount"/> sealed intervals (and of its <paramref name="dirtyIntervals"/>) to write.
    /// </summary>
    public void StartOver(string generation, IEnumerable<int> dirtyIntervals, int intervalCount)
    {
        (Generation, versions, SaveNumber, RebuiltSinceStored) = (generation, [], 0, true);
        unsaved.Clear();
        foreach (var chunk in TimelineCodec.ChunksOf(dirtyIntervals))
        {
            unsaved.Add(chunk);
        }

        for (var chunk = 0; chunk < TimelineCodec.ChunkCount(intervalCount); chunk++)
        {
            unsaved.Add(chunk);
        }
    }
}

/// <summary>
/// One snapshot's chunk writes: <paramref name="Chunks"/> (ascending) at <paramref name="Version"/>, and the version
/// of every chunk that snapshot names. Neither array changes once planned.
/// </summary>
public sealed record ChunkWrite(string Generation, int Version, int[] Chunks, int[] ChunkVersions);
