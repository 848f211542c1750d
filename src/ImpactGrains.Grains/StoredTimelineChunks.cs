using ImpactGrains.Scoring.Timeline;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;

namespace ImpactGrains.Grains;

/// <summary>
/// An entity's stored timeline chunks, at the versions its snapshot names (<see cref="TimelineChunkBook"/>): what a
/// restore reads, and where a timeline reads back the pages of sealed intervals it let go of (each was persisted, and
/// named, before it could go).
/// </summary>
internal sealed partial class StoredTimelineChunks(ITimelineStore timelines, string entity, TimelineChunkBook book, ILogger logger)
{
    /// <summary>The chunks a snapshot names, in order; null when one is missing (the timeline is then built from the log).</summary>
    public async Task<List<byte[]>?> LoadNamedAsync(string generation, int[] versions, CancellationToken cancellationToken)
    {
        var stored = await timelines.LoadAsync(entity, generation, cancellationToken);
        var chunks = new List<byte[]>();
        for (var i = 0; i < versions.Length; i++)
        {
            var chunk = stored.FirstOrDefault(c => c.Index == i && c.Version == versions[i]);
            if (chunk is null)
            {
                LogChunkMissing(entity, i);
                return null;
            }

            chunks.Add(chunk.Data);
        }

        return chunks;
    }

    /// <summary>Where a timeline of <paramref name="generation"/> reads back its pages.</summary>
    public ISealedChunkReader ReaderOf(string generation) => new Reader(this, generation);

    private Task<byte[]?> ReadAsync(string ofGeneration, int chunk, CancellationToken cancellationToken)
    {
        if (!book.TryGetVersion(ofGeneration, chunk, out var version))
        {
            // A timeline replaced by a rebuild while a query on it was under way: its chunks are no longer named.
            return Task.FromResult<byte[]?>(null);
        }

        return timelines.LoadChunkAsync(entity, ofGeneration, chunk, version, cancellationToken);
    }

    private sealed class Reader(StoredTimelineChunks chunks, string generation) : ISealedChunkReader
    {
        public async ValueTask<byte[]?> ReadChunkAsync(int chunk, CancellationToken cancellationToken = default) =>
            await chunks.ReadAsync(generation, chunk, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entity {Entity}: the stored timeline chunk {Chunk} is missing; the timeline is built from the log")]
    private partial void LogChunkMissing(string entity, int chunk);
}
