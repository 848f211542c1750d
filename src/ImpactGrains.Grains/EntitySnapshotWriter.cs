using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Incidents;
using ImpactGrains.Scoring.Timeline;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;

namespace ImpactGrains.Grains;

/// <summary>
/// Writes an entity grain's snapshot: the changed chunks of sealed intervals as new versions, then the snapshot that
/// names them, then the entity's standing, then drops the chunk versions the snapshot no longer names, so that a
/// snapshot and its chunks agree whatever fails in between. One write at a time; the grain decides when.
/// </summary>
internal sealed partial class EntitySnapshotWriter(
    IPersistentState<EntitySnapshot> snapshot,
    ITimelineStore timelines,
    IStandingStore standings,
    Orleans.Serialization.Serializer serializer,
    LeaderboardOptions leaderboardOptions,
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

    public bool HasUnsavedChanges(EntityLiveState live, TimelineChunkBook chunks) =>
        live.AppliedSequence > SavedSequence || chunks.HasUnsaved || live.Timeline.Count != SavedContributions;

    /// <summary>
    /// Writes what answers now; false when that failed (logged). The log still holds every event: a failed snapshot
    /// only means a longer replay next time. <paramref name="standing"/> is taken once the snapshot is stored.
    /// </summary>
    public async Task<bool> WriteAsync(
        EntityLiveState live, string modelIdentity, TimelineChunkBook chunks, OutageSpikeWatch spikes, InboundLinks sources, Func<StandingReport> standing)
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
        await storageGates.Writes.WaitAsync();
        try
        {
            await timelines.SaveAsync(live.Entity, write.Generation, stored);
            await snapshot.WriteStateAsync();

            // The standing too, for the partition to load should it move: it holds this entity after its grain is gone.
            var report = standing();
            await standings.SaveAsync([new StoredStanding(live.Entity, leaderboardOptions.PartitionOf(live.Entity), serializer.SerializeToArray(report))]);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entity {Entity} could not write its snapshot; it will retry")]
    private partial void LogSnapshotFailed(Exception exception, string entity);
}
