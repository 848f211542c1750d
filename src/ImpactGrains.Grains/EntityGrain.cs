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
/// loads its snapshot and replays only the newer events. The grain does the calls, the storage and the timing; what it
/// keeps is in plain types of Scoring: <see cref="EntityLiveState"/>, <see cref="InboundLinks"/>,
/// <see cref="OutageSpikeWatch"/> and <see cref="TimelineChunkBook"/>.
/// </summary>
[Ownership.EntityOwnerPlacement]
public sealed partial class EntityGrain(
    [PersistentState(GrainStorageNames.EntitySnapshot, GrainStorageNames.Snapshots)] IPersistentState<EntitySnapshot> snapshot,
    IEventLog log,
    IEntityCatalog catalog,
    ITimelineStore timelines,
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

    private readonly InboundLinks sources = new();
    private readonly TimelineChunkBook chunkBook = new(TimelineChunkBook.NewGeneration(table.Model.Identity));
    private readonly EntitySnapshotWriter snapshotWriter =
        new(snapshot, timelines, storageGates, logger);

    // What answers queries (set on activation, which knows the entity), and the model it was scored under: an older
    // one while a rebuild for the configured model runs in the background.
    private EntityLiveState live = null!;
    private ImpactCalculator? olderModel;
    private Task<RebuiltTimeline>? rebuilding;
    private OutageSpikeWatch spikes = null!;
    private StoredTimelineChunks storedChunks = null!;
    private InheritedEventPull inheritedPull = null!;
    private List<string> outbound = [];
    private string name = "";
    private EntityKind kind;
    private IGrainTimer? snapshotTimer;

    private string Id => this.GetPrimaryKeyString();

    private string ModelIdentity => table.Model.Identity;

    private ImpactCalculator Scoring => olderModel ?? calculator;

    private bool ServesCurrentModel => olderModel is null;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var saved = snapshot.State;
        live = new EntityLiveState(Id, DateTime.UtcNow.Ticks);
        spikes = new OutageSpikeWatch(Id, spikeOptions.Value);
        storedChunks = new StoredTimelineChunks(timelines, Id, chunkBook, logger);
        inheritedPull = new InheritedEventPull(GrainFactory, log, StartRebuild, logger);
        await storageGates.Loads.WaitAsync(cancellationToken);
        try
        {
            await LoadProfileAsync(cancellationToken);
            var restored = saved.Timeline is not null && await RestoreAsync(saved, cancellationToken);
            if (!restored)
            {
                // No snapshot of this format: everything from the log, in sequence order, spike detection included.
                live.Start(NewTimeline(), 0);
                sources.ApplyFromStart();
            }

            snapshotWriter.Restored(restored ? live.AppliedSequence : 0, restored ? live.Timeline.Count : 0);
            var replayed = await CatchUpAsync(long.MaxValue, cancellationToken);
            if (replayed > 0)
            {
                LogReplayed(Id, snapshotWriter.SavedSequence, replayed);
            }
        }
        finally
        {
            storageGates.Loads.Release();
        }

        saved.Events = []; // a first-format snapshot's events, now in the timeline
        await DetectSpikesAsync();
        ScheduleSnapshot();
        if (live.AppliedSequence > 0 || sources.Count > 0)
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

        if (await storedChunks.LoadNamedAsync(saved.Generation, saved.ChunkVersions, cancellationToken) is not { } chunks)
        {
            return false;
        }

        olderModel = ReferenceEquals(model, calculator) ? null : model;
        var linksChanged = sources.Restore(saved.Sources.Select(s => (s.From, s.Weight, s.AppliedSequence)).ToList());

        // Only the index of the sealed past stays in memory; its pages are read back from the timeline store on demand.
        var timeline = TimelineCodec.Read(new DecayTable(model.Model), timelineOptions.Value, saved.Timeline!, chunks, storedChunks.ReaderOf(saved.Generation));
        live.Start(timeline, saved.AppliedSequence);
        await live.Timeline.RestoreTailAsync(History(), cancellationToken);
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
        fresh.PageTo(storedChunks.ReaderOf(chunkBook.Generation));
        return fresh;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (SnapshotDue)
        {
            await SaveSnapshotAsync(cancellationToken);
        }
    }

    /// <summary>The log, as the timeline's cold path sees it: up to what this grain has applied of itself and of each source.</summary>
    private LogContributionHistory History() =>
        new(log, Scoring, Id, live.AppliedSequence, sources.All.Select(s => new InheritedStream(s.From, s.Weight, s.AppliedSequence)).ToList());

    private void Append(in ScoredEvent e, OutageObservation? outage)
    {
        if (outage is not null)
        {
            spikes.Add(outage.Region, outage.OccurredAtTicks, outage.Reports);
        }

        live.ApplyOwn(e);
    }

    /// <summary>Reads and applies logged events after the applied sequence, up to <paramref name="throughSequence"/>.</summary>
    private async Task<int> CatchUpAsync(long throughSequence, CancellationToken cancellationToken = default)
    {
        var missing = await log.ReadEntityAsync(Id, live.AppliedSequence, throughSequence, cancellationToken);
        var applied = 0;
        foreach (var logged in missing)
        {
            if (logged.EntitySequence == live.AppliedSequence + 1)
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
            await CatchUpAsync(batch.Events.Count == 0 ? live.AppliedSequence : batch.Events[^1].Sequence);
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
            if (e.Sequence <= live.AppliedSequence)
            {
                continue; // already applied: a redelivery, or replayed from the log at activation
            }

            if (e.Sequence > live.AppliedSequence + 1)
            {
                // A gap: an earlier delivery was lost or is still under way. The log has every committed event.
                await CatchUpAsync(e.Sequence - 1);
                if (e.Sequence > live.AppliedSequence + 1)
                {
                    throw new InvalidOperationException($"entity {Id}: the log has no events {live.AppliedSequence + 1}–{e.Sequence - 1}");
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
        if (live.AppliedSequence - snapshotWriter.SavedSequence >= snapshotOptions.Value.EveryEvents)
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
        if (throughSequence > live.AppliedSequence)
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

    private bool SnapshotDue => snapshotWriter.IsDue(live, chunkBook, snapshotOptions.Value.MinChanges);

    private void ScheduleSnapshot()
    {
        if (SnapshotDue && snapshotTimer is null)
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
    /// Writes the snapshot now. A deactivation passes its token: when the write cannot start in time the grain goes
    /// without it (its next activation replays more of the log), and nothing is scheduled on a grain that is going.
    /// </summary>
    private async Task SaveSnapshotAsync(CancellationToken deactivation = default)
    {
        snapshotTimer?.Dispose();
        snapshotTimer = null;
        if (snapshotWriter.InFlight || !ServesCurrentModel)
        {
            // One write at a time per grain; and an older model's state is not written over its snapshot again.
            if (!deactivation.CanBeCanceled)
            {
                ScheduleSnapshot();
            }

            return;
        }

        if (!await snapshotWriter.WriteAsync(live, ModelIdentity, chunkBook, spikes, sources, deactivation) && !deactivation.CanBeCanceled)
        {
            ScheduleSnapshot(); // tried again later: the log still holds every event
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
    private void ReportStanding() => standingReports.Report(Standing());

    private StandingReport Standing() => StandingReport.From(Id, name, kind, live.Timeline.VectorAt(time.GetUtcNow().UtcTicks));

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
        var streams = sources.All.Select(s => new InheritedStream(s.From, s.Weight, long.MaxValue)).ToList();
        var self = this.AsReference<IEntityGrain>();
        rebuilding = RebuiltTimeline.BuildAsync(log, calculator, table, timelineOptions.Value, Id, live.AppliedSequence, streams);
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
        RebuiltTimeline rebuilt;
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

        var previousApplied = live.AppliedSequence;
        olderModel = null;
        live.TakeOver(rebuilt.Timeline, rebuilt.OwnThrough);
        await CatchUpAsync(previousApplied); // own events applied while it was built
        spikes.ClearPending(); // the detectors saw these already
        sources.ApplyThrough(rebuilt.SourceThrough);
        var timeline = live.Timeline;
        chunkBook.StartOver(rebuilt.Generation, timeline.TakeDirtyIntervals(), timeline.IntervalCount);
        timeline.PageTo(storedChunks.ReaderOf(chunkBook.Generation)); // built in memory; its pages go once its first snapshot is written
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

        var inherited = await inheritedPull.PullAsync(live, sources, Scoring);
        if (inherited > 0)
        {
            // Inherited contributions seal intervals too: written as own events are, by count or after the interval.
            if (live.Timeline.Count - snapshotWriter.SavedContributions >= snapshotOptions.Value.EveryEvents && ServesCurrentModel)
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
        Task.FromResult(live.TryGetOwnAfter(afterSequence, out var events)
            ? new DirectEvents(live.AppliedSequence, events)
            : new DirectEvents(live.AppliedSequence, [], Complete: false));

    public async Task<ImpactReport> GetImpactAsync(DateTimeOffset at)
    {
        await SyncInheritedAsync();
        return await ImpactAtAsync(at);
    }

    public async Task<VersionedImpact> GetImpactIfChangedAsync(DateTimeOffset at, long? knownVersion)
    {
        await SyncInheritedAsync();
        return knownVersion == live.AnswerVersion ? new VersionedImpact(live.AnswerVersion, null) : new VersionedImpact(live.AnswerVersion, await ImpactAtAsync(at));
    }

    public async Task<VersionedExplain> ExplainIfChangedAsync(DateTimeOffset at, int limit, long? knownVersion)
    {
        await SyncInheritedAsync();
        return knownVersion == live.AnswerVersion ? new VersionedExplain(live.AnswerVersion, null) : new VersionedExplain(live.AnswerVersion, await ExplainAtAsync(at, limit));
    }

    private async Task<ImpactReport> ImpactAtAsync(DateTimeOffset at) =>
        ImpactReport.From(Id, at, await live.Timeline.EvaluateAsync(at, History()), Scoring.Model.Version);

    public async Task<ExplainReport> ExplainAsync(DateTimeOffset at, int limit)
    {
        await SyncInheritedAsync();
        return await ExplainAtAsync(at, limit);
    }

    private async Task<ExplainReport> ExplainAtAsync(DateTimeOffset at, int limit) =>
        new(Id, at, (await live.Timeline.ExplainAsync(at, limit, History())).Select(ContributionReport.From).ToList());

    public async Task<HistoryReport> GetHistoryAsync(IReadOnlyList<DateTimeOffset> points)
    {
        await SyncInheritedAsync();
        var scores = await live.Timeline.HistoryAsync(points, History());
        return new HistoryReport(Id, points.Select((p, i) => new HistoryPoint(p, scores[i])).ToList());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Entity {Entity} replayed {Count} events from the log after sequence {Sequence}")]
    private partial void LogReplayed(string entity, long sequence, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Entity {Entity}: spike detection logged {Count} incident events")]
    private partial void LogIncidents(string entity, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Entity {Entity}: timeline built again from the log ({Count} contributions)")]
    private partial void LogRebuilt(string entity, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entity {Entity}: building the timeline from the log failed; trying again")]
    private partial void LogRebuildFailed(Exception exception, string entity);
}
