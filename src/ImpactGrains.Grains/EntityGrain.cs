using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Incidents;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Timeline;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Grains;

/// <summary>
/// One entity's live impact. It applies the entity's committed events in sequence order (1…N, no gaps) and the events
/// of the entities linked into it, and answers every impact query. The scoring state is an <see cref="EntityTimeline"/>,
/// bounded by what still matters; its older past is read back from the log when a query asks for it. On activation it
/// loads its snapshot and replays only the newer events.
/// </summary>
[Ownership.EntityOwnerPlacement]
public sealed partial class EntityGrain(
    [PersistentState(GrainStorageNames.EntitySnapshot, GrainStorageNames.Snapshots)] IPersistentState<EntitySnapshot> snapshot,
    IEventLog log,
    IEntityCatalog catalog,
    ITimelineStore timelines,
    IStandingStore standings,
    Orleans.Serialization.Serializer serializer,
    IOptions<LeaderboardOptions> leaderboardOptions,
    IModelRegistry models,
    ImpactCalculator calculator,
    DecayTable table,
    TimeProvider time,
    IOptions<SnapshotOptions> snapshotOptions,
    IOptions<TimelineOptions> timelineOptions,
    StorageGates storageGates,
    StandingReports standingReports,
    IOptions<SpikeDetectorOptions> spikeOptions,
    ImpactMetrics metrics,
    ILogger<EntityGrain> logger) : Grain, IEntityGrain
{
    /// <summary>How long a link change waits for the timeline's rebuild before answering (it goes on in the background).</summary>
    private static readonly TimeSpan RebuildWait = TimeSpan.FromSeconds(3);

    private readonly RecentEvents recent = new(4096);
    private readonly InboundLinks sources = new();
    private OutageSpikeWatch spikes = null!;
    private List<string> outbound = [];
    private string name = "";
    private EntityKind kind;

    // What answers queries: the timeline, and the model it was scored under (an older one while a rebuild for the
    // configured model runs in the background).
    private EntityTimeline timeline = null!;
    private ImpactCalculator? olderModel;
    private long appliedSequence;

    // The version stamp of what answers depend on (VersionedImpact): from the activation's clock, so that a later
    // activation never repeats an earlier one's stamps, then one more for every change.
    private long answerVersion = DateTime.UtcNow.Ticks;
    private Task<Rebuilt>? rebuilding;

    // Persistence: the timeline generation, the stored version of each chunk, and the chunks changed since.
    private readonly TimelineChunkBook chunkBook = new(TimelineChunkBook.NewGeneration(table.Model.Identity));
    private long savedSequence;

    // The timeline's contributions (own and inherited) when the last snapshot was taken: an entity that only inherits
    // never moves appliedSequence, yet its sealed intervals must be written for their pages to leave memory.
    private int savedContributions;
    private IGrainTimer? snapshotTimer;
    private bool snapshotInFlight;

    private string Id => this.GetPrimaryKeyString();

    private string ModelIdentity => table.Model.Identity;

    private ImpactCalculator Scoring => olderModel ?? calculator;

    private bool ServesCurrentModel => olderModel is null;

    /// <summary>A timeline built from the log, and how far it read: the own events, and each source.</summary>
    private sealed record Rebuilt(EntityTimeline Timeline, long OwnThrough, IReadOnlyDictionary<string, long> SourceThrough, string Generation);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var saved = snapshot.State;
        spikes = new OutageSpikeWatch(Id, spikeOptions.Value);
        await storageGates.Loads.WaitAsync(cancellationToken);
        try
        {
            await LoadProfileAsync(cancellationToken);
            var restored = saved.Timeline is not null && await RestoreAsync(saved, cancellationToken);
            if (!restored)
            {
                // No snapshot of this format: everything from the log, in sequence order, spike detection included.
                timeline = NewTimeline();
                appliedSequence = 0;
                sources.ApplyFromStart();
            }

            savedSequence = restored ? appliedSequence : 0;
            savedContributions = restored ? timeline.Count : 0;
            var replayed = await CatchUpAsync(long.MaxValue, cancellationToken);
            if (replayed > 0)
            {
                LogReplayed(Id, savedSequence, replayed);
            }
        }
        finally
        {
            storageGates.Loads.Release();
        }

        saved.Events = []; // a first-format snapshot's events, now in the timeline
        await DetectSpikesAsync();
        ScheduleSnapshot();
        if (appliedSequence > 0 || sources.Count > 0)
        {
            // Re-report once active (a partition may have lost this entity's last report with a dead silo), and pull
            // from linked entities. Not from here: pulling inside an activation could wait on theirs, which may wait on
            // this one. A call to itself runs once the activation is done.
            this.AsReference<IEntityGrain>().InheritedChangedAsync().Ignore();
        }
    }

    /// <summary>Restores the timeline of the snapshot; false when it must be built from the log instead.</summary>
    private async Task<bool> RestoreAsync(EntitySnapshot saved, CancellationToken cancellationToken)
    {
        var model = saved.ModelVersion == ModelIdentity ? calculator : await OlderModelAsync(saved.ModelVersion, cancellationToken);
        if (model is null)
        {
            return false;
        }

        var stored = await timelines.LoadAsync(Id, saved.Generation, cancellationToken);
        var chunks = new List<byte[]>();
        for (var i = 0; i < saved.ChunkVersions.Length; i++)
        {
            var chunk = stored.FirstOrDefault(c => c.Index == i && c.Version == saved.ChunkVersions[i]);
            if (chunk is null)
            {
                LogChunkMissing(Id, i);
                return false;
            }

            chunks.Add(chunk.Data);
        }

        olderModel = ReferenceEquals(model, calculator) ? null : model;
        appliedSequence = saved.AppliedSequence;
        var linksChanged = sources.Restore(saved.Sources.Select(s => (s.From, s.Weight, s.AppliedSequence)).ToList());

        // Only the index of the sealed past stays in memory; its pages are read back from the timeline store on demand.
        timeline = TimelineCodec.Read(new DecayTable(model.Model), timelineOptions.Value, saved.Timeline!, chunks, new StoredChunks(this, saved.Generation));
        await timeline.RestoreTailAsync(History(), cancellationToken);
        foreach (var (region, state) in saved.Spikes)
        {
            spikes.Restore(region, state.ToState());
        }

        chunkBook.Restore(saved.Generation, saved.ChunkVersions, saved.SaveNumber);
        if (!ServesCurrentModel || linksChanged)
        {
            // Answer from what is there while the timeline for the configured model and links is built from the log.
            StartRebuild();
        }

        return true;
    }

    /// <summary>The model an older snapshot was scored under, from the registry; null when it is not there.</summary>
    private async Task<ImpactCalculator?> OlderModelAsync(string identity, CancellationToken cancellationToken)
    {
        var name = identity.Split('#')[0];
        return await models.FindAsync(name, cancellationToken) is { } record && record.Identity == identity ? new ImpactCalculator(record.Model) : null;
    }

    private EntityTimeline NewTimeline()
    {
        var fresh = new EntityTimeline(Id, table, timelineOptions.Value);
        fresh.PageTo(new StoredChunks(this, chunkBook.Generation));
        return fresh;
    }

    /// <summary>
    /// The stored chunks of one timeline generation, at the versions this grain's snapshot names: where its timeline
    /// reads back the pages of sealed intervals it let go of (each was persisted, and named, before it could go).
    /// </summary>
    private sealed class StoredChunks(EntityGrain grain, string generation) : ISealedChunkReader
    {
        public async ValueTask<byte[]?> ReadChunkAsync(int chunk, CancellationToken cancellationToken = default) =>
            await grain.ReadStoredChunkAsync(generation, chunk, cancellationToken);
    }

    private Task<byte[]?> ReadStoredChunkAsync(string ofGeneration, int chunk, CancellationToken cancellationToken)
    {
        if (!chunkBook.TryGetVersion(ofGeneration, chunk, out var version))
        {
            // A timeline replaced by a rebuild while a query on it was under way: its chunks are no longer named.
            return Task.FromResult<byte[]?>(null);
        }

        return timelines.LoadChunkAsync(Id, ofGeneration, chunk, version, cancellationToken);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (HasUnsavedChanges)
        {
            await SaveSnapshotAsync();
        }
    }

    /// <summary>The log, as the timeline's cold path sees it: up to what this grain has applied of itself and of each source.</summary>
    private LogContributionHistory History() =>
        new(log, Scoring, Id, appliedSequence, sources.All.Select(s => new InheritedStream(s.From, s.Weight, s.AppliedSequence)).ToList());

    private void Append(in ScoredEvent e, OutageObservation? outage)
    {
        if (outage is not null)
        {
            spikes.Add(outage.Region, outage.OccurredAtTicks, outage.Reports);
        }

        timeline.Add(Contribution.OwnEvent(e, Id));
        answerVersion++;
        recent.Add(e);
        appliedSequence = e.Sequence;
    }

    /// <summary>Reads and applies logged events after the applied sequence, up to <paramref name="throughSequence"/>.</summary>
    private async Task<int> CatchUpAsync(long throughSequence, CancellationToken cancellationToken = default)
    {
        var missing = await log.ReadEntityAsync(Id, appliedSequence, throughSequence, cancellationToken);
        var applied = 0;
        foreach (var logged in missing)
        {
            if (logged.EntitySequence == appliedSequence + 1)
            {
                Append(Scoring.Score(logged.Event, logged.EntitySequence), OutageObservation.Of(logged.Event, logged.EntitySequence));
                applied++;
            }
        }

        return applied;
    }

    public async Task ApplyAsync(EntityEventBatch batch)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await ApplyBatchAsync(batch);
        }
        finally
        {
            metrics.ApplyLatency.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private async Task ApplyBatchAsync(EntityEventBatch batch)
    {
        if (!ServesCurrentModel)
        {
            // An older model answers until the rebuild for the configured one is done; the batch was scored under the
            // configured model, so this timeline takes the same events from the log, scored its own way.
            await CatchUpAsync(batch.Events.Count == 0 ? appliedSequence : batch.Events[^1].Sequence);
            await AfterAppliedAsync();
            return;
        }

        Dictionary<long, OutageObservation>? outages = null;
        if (batch.Outages is { Count: > 0 })
        {
            outages = batch.Outages.ToDictionary(o => o.Sequence);
        }

        foreach (var e in batch.Events)
        {
            if (e.Sequence <= appliedSequence)
            {
                continue; // already applied: a redelivery, or replayed from the log at activation
            }

            if (e.Sequence > appliedSequence + 1)
            {
                // A gap: an earlier delivery was lost or is still under way. The log has every committed event.
                await CatchUpAsync(e.Sequence - 1);
                if (e.Sequence > appliedSequence + 1)
                {
                    throw new InvalidOperationException($"entity {Id}: the log has no events {appliedSequence + 1}–{e.Sequence - 1}");
                }
            }

            Append(e, outages?.GetValueOrDefault(e.Sequence));
        }

        await AfterAppliedAsync();
    }

    private async Task AfterAppliedAsync()
    {
        await DetectSpikesAsync();
        OnOwnEventsChanged();
        if (appliedSequence - savedSequence >= snapshotOptions.Value.EveryEvents)
        {
            await SaveSnapshotAsync();
        }
        else
        {
            ScheduleSnapshot();
        }
    }

    public async Task EnsureAppliedAsync(long throughSequence)
    {
        if (throughSequence > appliedSequence)
        {
            await CatchUpAsync(throughSequence);
            await DetectSpikesAsync();
            OnOwnEventsChanged();
            ScheduleSnapshot();
        }
    }

    /// <summary>
    /// Feeds the newly applied outage report counts to their region's detector. A detected or resolved spike is an
    /// event in its own right: it is appended to the log (with an id fixed by the spike, so a replay never adds it
    /// twice), applied here like any other event, and announced on the live feed.
    /// </summary>
    private async Task DetectSpikesAsync()
    {
        if (spikes.DetectPending() is not { } incidents)
        {
            return;
        }

        var appended = await log.AppendAsync(incidents);
        var fresh = incidents.Where((_, i) => !appended.Outcomes[i].Duplicate).ToList();
        if (fresh.Count == 0)
        {
            return;
        }

        // Applied here at once; the commit's delivery (which removes its outbox row) finds them applied.
        await CatchUpAsync(appended.Outcomes.Max(o => o.EntitySequence));
        var messages = fresh.Select(e => LiveMessage.Unnumbered(IncidentLogged.Of(e, kind.WireName()))).ToList();
        GrainFactory.GetGrain<ILiveFeedGrain>(0).PublishAsync(messages).Ignore();
        LogIncidents(Id, fresh.Count);
    }

    private bool HasUnsavedChanges => appliedSequence > savedSequence || chunkBook.HasUnsaved || timeline.Count != savedContributions;

    private void ScheduleSnapshot()
    {
        if (HasUnsavedChanges && snapshotTimer is null)
        {
            // Up to half an interval of jitter, so that grains activated together do not all write together.
            var interval = snapshotOptions.Value.Interval * (1 + Random.Shared.NextDouble() / 2);
            // Interleaved: waiting for the process's snapshot gate must not hold up the grain's deliveries and queries.
            snapshotTimer = this.RegisterGrainTimer(
                async _ => await SaveSnapshotAsync(),
                new GrainTimerCreationOptions(interval, Timeout.InfiniteTimeSpan) { Interleave = true });
        }
    }

    /// <summary>
    /// Writes the changed chunks of sealed intervals as new versions, then the snapshot that names them, then drops
    /// the versions it no longer names: a snapshot and its chunks agree whatever fails in between.
    /// </summary>
    private async Task SaveSnapshotAsync()
    {
        snapshotTimer?.Dispose();
        snapshotTimer = null;
        if (snapshotInFlight || !ServesCurrentModel)
        {
            // One write at a time per grain; and an older model's state is not written over its snapshot again.
            ScheduleSnapshot();
            return;
        }

        snapshotInFlight = true;
        try
        {
            // A chunk changed while its page was out of memory (a late event, a recomputed peak) is read back first:
            // writing it needs the page. Then everything up to the writes runs in this one turn.
            while (!timeline.UnpersistedInMemory)
            {
                await timeline.LoadUnpersistedAsync();
            }
        }
        catch (Exception ex)
        {
            LogSnapshotFailed(ex, Id);
            snapshotInFlight = false;
            ScheduleSnapshot();
            return;
        }

        var written = timeline;
        var sequence = appliedSequence;
        var contributions = timeline.Count;
        var write = chunkBook.PlanWrite(timeline.TakeDirtyIntervals(), timeline.IntervalCount);
        var stored = write.Chunks.Select(c => new TimelineChunk(c, write.Version, TimelineCodec.WriteChunk(timeline, c))).ToList();

        var state = snapshot.State;
        state.AppliedSequence = sequence;
        state.ModelVersion = ModelIdentity;
        state.Events = [];
        state.Timeline = TimelineCodec.WriteLive(timeline);
        state.Generation = write.Generation;
        state.ChunkVersions = write.ChunkVersions;
        state.SaveNumber = write.Version;
        state.Spikes = spikes.Detectors.ToDictionary(p => p.Key, p => SpikeStateSnapshot.From(p.Value.State), StringComparer.Ordinal);
        state.Sources = sources.All.Select(s => new InheritedSnapshot { From = s.From, Weight = s.Weight, AppliedSequence = s.AppliedSequence }).ToList();
        await storageGates.Writes.WaitAsync();
        try
        {
            await timelines.SaveAsync(Id, write.Generation, stored);
            await snapshot.WriteStateAsync();

            // The standing too, for the partition to load should it move: it holds this entity after its grain is gone.
            var standing = StandingReport.From(Id, name, kind, timeline.VectorAt(time.GetUtcNow().UtcTicks));
            await standings.SaveAsync([new StoredStanding(Id, leaderboardOptions.Value.PartitionOf(Id), serializer.SerializeToArray(standing))]);
            savedSequence = sequence;
            savedContributions = contributions;
            if (ReferenceEquals(written, timeline) && chunkBook.Commit(write))
            {
                // Not after a rebuild took over meanwhile (the versions were the old generation's). The store has these
                // chunks now, and the snapshot names them: their pages may leave memory.
                written.MarkPersisted(write.Chunks);
            }

            await timelines.PruneAsync(Id, write.Generation, stored);
        }
        catch (Exception ex)
        {
            // The log still holds every event; a failed snapshot only means a longer replay next time.
            LogSnapshotFailed(ex, Id);
            ScheduleSnapshot();
        }
        finally
        {
            storageGates.Writes.Release();
            snapshotInFlight = false;
            state.Timeline = null; // the store has it; keeping the bytes would hold the state twice in memory
        }
    }

    /// <summary>New own events: tell the leaderboard, and the entities that inherit from this one.</summary>
    private void OnOwnEventsChanged()
    {
        ReportStanding();
        foreach (var target in outbound)
        {
            GrainFactory.GetEntityGrain(target).InheritedChangedAsync().Ignore();
        }
    }

    public async Task InheritedChangedAsync()
    {
        await SyncInheritedAsync();
        ReportStanding();
    }

    /// <summary>The entity's standing, for its leaderboard partition: gathered by the silo and sent on in batches.</summary>
    private void ReportStanding() =>
        standingReports.Report(StandingReport.From(Id, name, kind, timeline.VectorAt(time.GetUtcNow().UtcTicks)));

    public async Task ReloadAsync()
    {
        if (await LoadProfileAsync(CancellationToken.None))
        {
            // A link added, removed or reweighted changes the inherited past too: the timeline is built again from the
            // log. A small one is ready before this answers; a large one takes over when it is.
            StartRebuild();
            await Task.WhenAny(rebuilding!, Task.Delay(RebuildWait));
            if (rebuilding!.IsCompleted)
            {
                await TakeRebuiltAsync();
            }
        }
        else
        {
            await SyncInheritedAsync();
        }

        ReportStanding();
    }

    /// <summary>Loads the entity's name, kind and links; true when its inbound links changed.</summary>
    private async Task<bool> LoadProfileAsync(CancellationToken cancellationToken)
    {
        if (await catalog.FindEntityAsync(Id, cancellationToken) is { } profile)
        {
            (name, kind) = (profile.Name, profile.Kind);
        }

        var links = await catalog.LinksOfAsync(Id, cancellationToken);
        outbound = links.Where(l => l.From == Id && l.To != Id).Select(l => l.To).ToList();
        return sources.Relink(links.Where(l => l.To == Id && l.From != Id).Select(l => (l.From, l.Weight)).ToList());
    }

    /// <summary>
    /// Builds the timeline again from the log, off the grain's turn: every own event applied so far, and every logged
    /// event of each linked entity at its current weight, in time order. Queries go on meanwhile against the current one.
    /// </summary>
    private void StartRebuild()
    {
        var ownThrough = appliedSequence;
        var streams = sources.All.Select(s => new InheritedStream(s.From, s.Weight, long.MaxValue)).ToList();
        var options = timelineOptions.Value;
        var entity = Id;
        var self = this.AsReference<IEntityGrain>();
        rebuilding = Task.Run(async () =>
        {
            var rebuilt = new EntityTimeline(entity, table, options);
            var through = streams.ToDictionary(s => s.From, _ => 0L, StringComparer.Ordinal);
            await foreach (var c in new LogContributionHistory(log, calculator, entity, ownThrough, streams).ReadAsync(long.MinValue, long.MaxValue))
            {
                rebuilt.Add(c);
                if (!c.Own)
                {
                    through[c.Source] = Math.Max(through[c.Source], c.Sequence);
                }
            }

            return new Rebuilt(rebuilt, ownThrough, through, TimelineChunkBook.NewGeneration(ModelIdentity));
        });
        rebuilding.ContinueWith(_ => self.InheritedChangedAsync().Ignore(), TaskScheduler.Default).Ignore();
    }

    /// <summary>Takes a finished rebuild: it catches up with what was applied meanwhile, then answers from now on.</summary>
    private async Task TakeRebuiltAsync()
    {
        if (rebuilding is not { IsCompleted: true } done)
        {
            return;
        }

        rebuilding = null;
        Rebuilt rebuilt;
        try
        {
            rebuilt = await done;
        }
        catch (Exception ex)
        {
            LogRebuildFailed(ex, Id);
            StartRebuild();
            return;
        }

        var previousApplied = appliedSequence;
        (timeline, olderModel, appliedSequence) = (rebuilt.Timeline, null, rebuilt.OwnThrough);
        answerVersion++;
        recent.Clear();
        await CatchUpAsync(previousApplied); // own events applied while it was built
        spikes.ClearPending(); // the detectors saw these already
        sources.ApplyThrough(rebuilt.SourceThrough);

        chunkBook.StartOver(rebuilt.Generation, timeline.TakeDirtyIntervals(), timeline.IntervalCount);
        timeline.PageTo(new StoredChunks(this, chunkBook.Generation)); // built in memory; its pages go once its first snapshot is written

        LogRebuilt(Id, timeline.Count);
        ScheduleSnapshot();
    }

    /// <summary>Pulls the events that linked entities have applied since the last pull.</summary>
    private async Task SyncInheritedAsync()
    {
        await TakeRebuiltAsync();
        if (sources.Count == 0)
        {
            return;
        }

        var inherited = 0;
        var pulls = sources.All.Select(s => (Source: s, Pull: GrainFactory.GetEntityGrain(s.From).GetDirectEventsAsync(s.AppliedSequence))).ToList();
        foreach (var (source, pull) in pulls)
        {
            try
            {
                var direct = await pull;
                if (direct.AppliedSequence < source.AppliedSequence)
                {
                    // The source started over from its log (a restore that lost nothing but its count): build again.
                    StartRebuild();
                    continue;
                }

                IEnumerable<ScoredEvent> events = direct.Events;
                if (!direct.Complete)
                {
                    // Fallen behind what the source keeps in memory: the rest comes from the log.
                    events = (await log.ReadEntityAsync(source.From, source.AppliedSequence, direct.AppliedSequence))
                        .Select(e => Scoring.Score(e.Event, e.EntitySequence));
                }

                foreach (var e in events)
                {
                    if (e.Sequence > source.AppliedSequence)
                    {
                        timeline.Add(Contribution.InheritedEvent(e, source.From, source.Weight));
                        answerVersion++;
                        source.AppliedSequence = e.Sequence;
                        inherited++;
                    }
                }
            }
            catch (Exception ex)
            {
                // Answer with what is known rather than fail the query; the next query pulls again.
                LogInheritedUnavailable(ex, Id, source.From);
            }
        }

        if (inherited > 0)
        {
            // Inherited contributions seal intervals too: written as own events are, by count or after the interval.
            if (timeline.Count - savedContributions >= snapshotOptions.Value.EveryEvents && ServesCurrentModel)
            {
                await SaveSnapshotAsync();
            }
            else
            {
                ScheduleSnapshot();
            }
        }
    }

    public Task<DirectEvents> GetDirectEventsAsync(long afterSequence) =>
        Task.FromResult(recent.TryGetAfter(afterSequence, appliedSequence, out var events)
            ? new DirectEvents(appliedSequence, events)
            : new DirectEvents(appliedSequence, [], Complete: false));

    public async Task<ImpactReport> GetImpactAsync(DateTimeOffset at)
    {
        await SyncInheritedAsync();
        return await ImpactAtAsync(at);
    }

    public async Task<VersionedImpact> GetImpactIfChangedAsync(DateTimeOffset at, long? knownVersion)
    {
        await SyncInheritedAsync();
        return knownVersion == answerVersion ? new VersionedImpact(answerVersion, null) : new VersionedImpact(answerVersion, await ImpactAtAsync(at));
    }

    public async Task<VersionedExplain> ExplainIfChangedAsync(DateTimeOffset at, int limit, long? knownVersion)
    {
        await SyncInheritedAsync();
        return knownVersion == answerVersion ? new VersionedExplain(answerVersion, null) : new VersionedExplain(answerVersion, await ExplainAtAsync(at, limit));
    }

    private async Task<ImpactReport> ImpactAtAsync(DateTimeOffset at)
    {
        var b = await timeline.EvaluateAsync(at, History());
        return new ImpactReport(
            Id,
            at,
            b.Score,
            b.Direct,
            b.Inherited,
            b.Categories.ToDictionary(c => c.Key.WireName(), c => c.Value),
            b.Regions,
            new PeakReport(b.Peak.Score, b.Peak.At),
            b.Trend24h,
            b.EventCount,
            Scoring.Model.Version);
    }

    public async Task<ExplainReport> ExplainAsync(DateTimeOffset at, int limit)
    {
        await SyncInheritedAsync();
        return await ExplainAtAsync(at, limit);
    }

    private async Task<ExplainReport> ExplainAtAsync(DateTimeOffset at, int limit)
    {
        var contributions = (await timeline.ExplainAsync(at, limit, History()))
            .Select(c => new ContributionReport(c.EventId, c.Entity, c.Type.WireName(), c.OccurredAt, c.Category.WireName(), c.Contribution, c.Share))
            .ToList();
        return new ExplainReport(Id, at, contributions);
    }

    public async Task<HistoryReport> GetHistoryAsync(IReadOnlyList<DateTimeOffset> points)
    {
        await SyncInheritedAsync();
        var scores = await timeline.HistoryAsync(points, History());
        return new HistoryReport(Id, points.Select((p, i) => new HistoryPoint(p, scores[i])).ToList());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Entity {Entity} replayed {Count} events from the log after sequence {Sequence}")]
    private partial void LogReplayed(string entity, long sequence, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Entity {Entity}: spike detection logged {Count} incident events")]
    private partial void LogIncidents(string entity, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entity {Entity} could not write its snapshot; it will retry")]
    private partial void LogSnapshotFailed(Exception exception, string entity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entity {Entity} could not pull inherited events from {Source}; answering with what it has")]
    private partial void LogInheritedUnavailable(Exception exception, string entity, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entity {Entity}: the stored timeline chunk {Chunk} is missing; the timeline is built from the log")]
    private partial void LogChunkMissing(string entity, int chunk);

    [LoggerMessage(Level = LogLevel.Information, Message = "Entity {Entity}: timeline built again from the log ({Count} contributions)")]
    private partial void LogRebuilt(string entity, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entity {Entity}: building the timeline from the log failed; trying again")]
    private partial void LogRebuildFailed(Exception exception, string entity);
}
