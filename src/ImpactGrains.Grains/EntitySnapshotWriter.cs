using ImpactGrains.Scoring.Incidents;
using ImpactGrains.Scoring.Timeline;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;

namespace ImpactGrains.Grains;

/// <summary>
/// Writes an entity grain's snapshot: the changed chunks of sealed intervals as new versions, then the snapshot that
/// names them, then drops the chunk versions the snapshot no longer names, so that a snapshot and its chunks agree
/// whatever fails in between. One write at a time; the grain decides when. (The entity's standing is stored by its
/// leaderboard partition, with the others that changed.)
/// </summary>
internal sealed partial class EntitySnapshotWriter(
    IPersistentState<EntitySnapshot> snapshot,
    ITimelineStore timelines,
    StorageGates storageGates,
    ILogger logger)
{
    public bool InFlight { get; private set; }

    /// <summary>How far the own events were applied when the last stored snapshot was taken.</summary>
    public long SavedSequence { get; private set; }

    // The timeline's contributions (own and inherited) when the last snapshot was taken: an entity that only inherits
    // never moves the applied sequence, yet its sealed intervals must be written for their pages to leave memory.
    public int SavedContributions { get; private set; }

    /// <summary>What the snapshot the grain activated from holds (nothing, when it was built from the log).</summary>
    public void Restored(long sequence, int contributions) => (SavedSequence, SavedContributions) = (sequence, contributions);

    /// <summary>
    /// Whether a snapshot pays for its write now (<see cref="SnapshotOptions.MinChanges"/>): a rebuilt timeline and a
    /// chunk left unwritten always do; otherwise only <paramref name="minChanges"/> contributions or more since the last.
    /// </summary>
    public bool IsDue(EntityLiveState live, TimelineChunkBook chunks, int minChanges) =>
        chunks.RebuiltSinceStored || chunks.HasUnsaved || live.Timeline.Count - SavedContributions >= Math.Max(1, minChanges);

    /// <summary>
    /// Writes what answers now; false when that failed (logged), or when <paramref name="deactivation"/> ended the wait
    /// for the process's write gate. The log still holds every event: a missing snapshot only means a longer replay.
    /// </summary>
    public async Task<bool> WriteAsync(
        EntityLiveState live, string modelIdentity, TimelineChunkBook chunks, OutageSpikeWatch spikes, InboundLinks sources, CancellationToken deactivation)
    {
        InFlight = true;
        try
        {
            // A chunk changed while its page was out of memory (a late event, a recomputed peak) is read back first:
            // writing it needs the page. Then everything up to the writes runs in this one turn.
            while (!live.Timeline.UnpersistedInMemory)
            {
                await live.Timeline.LoadUnpersistedAsync();
            }
        }
        catch (Exception ex)
        {
            LogSnapshotFailed(ex, live.Entity);
            InFlight = false;
            return false;
        }

        var written = live.Timeline;
        var sequence = live.AppliedSequence;
        var contributions = written.Count;
        var write = chunks.PlanWrite(written.TakeDirtyIntervals(), written.IntervalCount);
        var stored = write.Chunks.Select(c => new TimelineChunk(c, write.Version, TimelineCodec.WriteChunk(written, c))).ToList();

        var state = snapshot.State;
        state.AppliedSequence = sequence;
        state.ModelVersion = modelIdentity;
        state.Events = [];
        state.Timeline = TimelineCodec.WriteLive(written);
        state.Generation = write.Generation;
        state.ChunkVersions = write.ChunkVersions;
        state.SaveNumber = write.Version;
        state.Spikes = spikes.Detectors.ToDictionary(p => p.Key, p => SpikeStateSnapshot.From(p.Value.State), StringComparer.Ordinal);
        state.Sources = sources.All.Select(s => new InheritedSnapshot { From = s.From, Weight = s.Weight, AppliedSequence = s.AppliedSequence }).ToList();
        try
        {
            await storageGates.Writes.WaitAsync(deactivation);
        }
        catch (OperationCanceledException)
        {
            LogSnapshotSkipped(live.Entity);
            InFlight = false;
            state.Timeline = null;
            return false;
        }

        try
        {
            await timelines.SaveAsync(live.Entity, write.Generation, stored);
            await snapshot.WriteStateAsync();
            SavedSequence = sequence;
            SavedContributions = contributions;
            if (ReferenceEquals(written, live.Timeline) && chunks.Commit(write))
            {
                // Not after a rebuild took over meanwhile (the versions were the old generation's). The store has these
                // chunks now, and the snapshot names them: their pages may leave memory.
                written.MarkPersisted(write.Chunks);
            }

            await timelines.PruneAsync(live.Entity, write.Generation, stored);
            return true;
        }
        catch (Exception ex)
        {
            LogSnapshotFailed(ex, live.Entity);
            return false;
        }
        finally
        {
            storageGates.Writes.Release();
            InFlight = false;
            state.Timeline = null; // the store has it; keeping the bytes would hold the state twice in memory
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Entity {Entity} deactivated before its snapshot could be written; its next activation replays more of the log")]
    private partial void LogSnapshotSkipped(string entity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entity {Entity} could not write its snapshot; it will retry")]
    private partial void LogSnapshotFailed(Exception exception, string entity);
}
