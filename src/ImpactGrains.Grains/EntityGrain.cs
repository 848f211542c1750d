using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Incidents;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Grains;

/// <summary>
/// One entity's live impact. It holds the entity's scored events (sequence 1…N, no gaps), copies of the events of
/// entities linked into it, and answers every impact query from memory. On activation it loads its snapshot and
/// replays only the newer events from the log.
/// </summary>
public sealed partial class EntityGrain(
    [PersistentState(GrainStorageNames.EntitySnapshot, GrainStorageNames.Snapshots)] IPersistentState<EntitySnapshot> snapshot,
    IEventLog log,
    IEntityCatalog catalog,
    ImpactCalculator calculator,
    DecayTable table,
    TimeProvider time,
    IOptions<SnapshotOptions> snapshotOptions,
    StorageGates storageGates,
    StandingReports standingReports,
    IOptions<SpikeDetectorOptions> spikeOptions,
    ImpactMetrics metrics,
    ILogger<EntityGrain> logger) : Grain, IEntityGrain
{
    private readonly List<ScoredEvent> bySequence = [];
    private readonly Dictionary<string, InheritedSourceState> inherited = new(StringComparer.Ordinal);
    private List<string> outbound = [];

    // Spike detection per region, fed in sequence order by the outage events this grain applies.
    private readonly Dictionary<string, SpikeDetector> spikes = new(StringComparer.Ordinal);
    private readonly List<OutageObservation> pendingOutages = [];
    private string name = "";
    private EntityKind kind;
    private EventLedger ledger = null!;
    private long savedSequence;
    private IGrainTimer? snapshotTimer;
    private bool snapshotInFlight;

    // Bumped on any change to own or inherited events or to links; the cached all-time peak is valid for one stamp.
    private long changeStamp;
    private (long Stamp, Peak Peak)? cachedPeak;

    private readonly string modelIdentity = table.Model.Identity;

    private string Id => this.GetPrimaryKeyString();

    /// <summary>Sequences are 1…N without gaps, so the count is the last applied sequence.</summary>
    private long AppliedSequence => bySequence.Count;

    /// <summary>What this grain knows of one entity linked into it.</summary>
    private sealed class InheritedSourceState(string from, double weight, EventLedger ledger)
    {
        public string From { get; } = from;
        public double Weight { get; set; } = weight;
        public EventLedger Ledger { get; set; } = ledger;
        public long AppliedSequence { get; set; }
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ledger = new EventLedger(table);
        var saved = snapshot.State;
        if (saved.ModelVersion == modelIdentity && IsContiguous(saved.Events))
        {
            foreach (var e in saved.Events)
            {
                Append(e, null);
            }

            foreach (var (region, state) in saved.Spikes)
            {
                spikes[region] = new SpikeDetector(spikeOptions.Value, state.ToState());
            }

            savedSequence = AppliedSequence;
        }

        saved.Events = []; // now in the ledger; the loaded list would otherwise stay alive beside it
        int replayed;
        await storageGates.Loads.WaitAsync(cancellationToken);
        try
        {
            replayed = await CatchUpAsync(long.MaxValue, cancellationToken);
            await LoadProfileAsync(cancellationToken);
        }
        finally
        {
            storageGates.Loads.Release();
        }

        if (replayed > 0)
        {
            LogReplayed(Id, savedSequence, replayed);
        }

        // Replayed outages re-run detection; incidents already logged come back as duplicates and change nothing.
        await DetectSpikesAsync();
        ScheduleSnapshot();
        if (AppliedSequence > 0 || inherited.Count > 0)
        {
            // Re-report once active (a partition may have lost this entity's last report with a dead silo). Not from
            // here: pulling from linked entities inside an activation could wait on their activation, which may
            // wait on this one. A call to itself runs once the activation is done, and, unlike a one-shot timer,
            // leaves nothing registered behind (a timer stayed with every idle grain, ~400 bytes each).
            this.AsReference<IEntityGrain>().InheritedChangedAsync().Ignore();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (AppliedSequence > savedSequence)
        {
            await SaveSnapshotAsync();
        }
    }

    private static bool IsContiguous(List<ScoredEvent> events)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Sequence != i + 1)
            {
                return false;
            }
        }

        return true;
    }

    private void Append(ScoredEvent e, OutageObservation? outage)
    {
        if (outage is not null)
        {
            pendingOutages.Add(outage);
        }

        bySequence.Add(e);
        ledger.TryAdd(e);
        changeStamp++;
    }

    /// <summary>Reads and applies logged events after the applied sequence, up to <paramref name="throughSequence"/>.</summary>
    private async Task<int> CatchUpAsync(long throughSequence, CancellationToken cancellationToken = default)
    {
        var missing = await log.ReadEntityAsync(Id, AppliedSequence, throughSequence, cancellationToken);
        var applied = 0;
        foreach (var logged in missing)
        {
            if (logged.EntitySequence == AppliedSequence + 1)
            {
                Append(calculator.Score(logged.Event, logged.EntitySequence), OutageObservation.Of(logged.Event, logged.EntitySequence));
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
        var outages = batch.Outages?.ToDictionary(o => o.Sequence);
        foreach (var e in batch.Events)
        {
            if (e.Sequence <= AppliedSequence)
            {
                continue; // already applied: a redelivery, or replayed from the log at activation
            }

            if (e.Sequence > AppliedSequence + 1)
            {
                // A gap: an earlier delivery was lost or is still under way. The log has every committed event.
                await CatchUpAsync(e.Sequence - 1);
                if (e.Sequence > AppliedSequence + 1)
                {
                    throw new InvalidOperationException($"entity {Id}: the log has no events {AppliedSequence + 1}–{e.Sequence - 1}");
                }
            }

            Append(e, outages?.GetValueOrDefault(e.Sequence));
        }

        await DetectSpikesAsync();
        OnOwnEventsChanged();
        if (AppliedSequence - savedSequence >= snapshotOptions.Value.EveryEvents)
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
        if (throughSequence > AppliedSequence)
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
        if (pendingOutages.Count == 0)
        {
            return;
        }

        var incidents = new List<ImpactEvent>();
        foreach (var outage in pendingOutages)
        {
            if (!spikes.TryGetValue(outage.Region, out var detector))
            {
                spikes[outage.Region] = detector = new SpikeDetector(spikeOptions.Value);
            }

            if (detector.Observe(new DateTimeOffset(outage.OccurredAtTicks, TimeSpan.Zero), outage.Reports) is { } signal)
            {
                incidents.Add(IncidentEvent(outage.Region, signal));
            }
        }

        pendingOutages.Clear();
        if (incidents.Count == 0)
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

    private ImpactEvent IncidentEvent(string region, SpikeSignal signal)
    {
        var status = signal.Transition == SpikeTransition.Detected ? IncidentStatus.Detected : IncidentStatus.Resolved;
        var id = $"incident-{Id}-{region}-{signal.StartedAt.UtcTicks}-{(status == IncidentStatus.Detected ? "detected" : "resolved")}";
        return new ImpactEvent(id, Id, EventType.Incident, signal.At, region, 1.0, "spike-detector",
            new IncidentData(status, signal.Reports, signal.BaselineMean, signal.BaselineStdDev, signal.ZScore, signal.StartedAt, signal.PeakReports));
    }

    private void ScheduleSnapshot()
    {
        if (AppliedSequence > savedSequence && snapshotTimer is null)
        {
            // Up to half an interval of jitter, so that grains activated together do not all write together.
            var interval = snapshotOptions.Value.Interval * (1 + Random.Shared.NextDouble() / 2);
            // Interleaved: waiting for the process's snapshot gate must not hold up the grain's deliveries and queries.
            snapshotTimer = this.RegisterGrainTimer(
                async _ => await SaveSnapshotAsync(),
                new GrainTimerCreationOptions(interval, Timeout.InfiniteTimeSpan) { Interleave = true });
        }
    }

    private async Task SaveSnapshotAsync()
    {
        snapshotTimer?.Dispose();
        snapshotTimer = null;
        if (snapshotInFlight)
        {
            ScheduleSnapshot(); // one write at a time per grain; the next one picks up what this one misses
            return;
        }

        snapshotInFlight = true;
        var sequence = AppliedSequence;
        snapshot.State.AppliedSequence = sequence;
        snapshot.State.ModelVersion = modelIdentity;
        snapshot.State.Events = [.. bySequence]; // a copy: events applied while this write waits must not change it
        snapshot.State.Spikes = spikes.ToDictionary(p => p.Key, p => SpikeStateSnapshot.From(p.Value.State), StringComparer.Ordinal);
        await storageGates.Writes.WaitAsync();
        try
        {
            await snapshot.WriteStateAsync();
            savedSequence = sequence;
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
            snapshot.State.Events = []; // the store has them; keeping the copy would hold every event twice in memory
        }
    }

    /// <summary>New own events: tell the leaderboard, and the entities that inherit from this one.</summary>
    private void OnOwnEventsChanged()
    {
        ReportStanding();
        foreach (var target in outbound)
        {
            GrainFactory.GetGrain<IEntityGrain>(target).InheritedChangedAsync().Ignore();
        }
    }

    public async Task InheritedChangedAsync()
    {
        await SyncInheritedAsync();
        ReportStanding();
    }

    /// <summary>The entity's standing, for its leaderboard partition: gathered by the silo and sent on in batches.</summary>
    private void ReportStanding()
    {
        var vector = View().VectorAt(time.GetUtcNow().UtcTicks);
        standingReports.Report(StandingReport.From(Id, name, kind, vector));
    }

    public async Task ReloadAsync()
    {
        await LoadProfileAsync(CancellationToken.None);
        await SyncInheritedAsync();
        ReportStanding();
    }

    private async Task LoadProfileAsync(CancellationToken cancellationToken)
    {
        if (await catalog.FindEntityAsync(Id, cancellationToken) is { } profile)
        {
            (name, kind) = (profile.Name, profile.Kind);
        }

        var links = await catalog.LinksOfAsync(Id, cancellationToken);
        outbound = links.Where(l => l.From == Id && l.To != Id).Select(l => l.To).ToList();
        var inbound = links.Where(l => l.To == Id && l.From != Id).ToList();
        foreach (var stale in inherited.Keys.Except(inbound.Select(l => l.From)).ToList())
        {
            inherited.Remove(stale);
        }

        foreach (var link in inbound)
        {
            if (inherited.TryGetValue(link.From, out var existing))
            {
                existing.Weight = link.Weight;
            }
            else
            {
                inherited[link.From] = new InheritedSourceState(link.From, link.Weight, new EventLedger(table));
            }
        }

        changeStamp++;
    }

    /// <summary>Pulls the events that linked entities have applied since the last query.</summary>
    private async Task SyncInheritedAsync()
    {
        if (inherited.Count == 0)
        {
            return;
        }

        var sources = inherited.Values.ToList();
        var pulls = sources.Select(s => GrainFactory.GetGrain<IEntityGrain>(s.From).GetDirectEventsAsync(s.AppliedSequence)).ToList();
        for (var i = 0; i < sources.Count; i++)
        {
            var source = sources[i];
            DirectEvents direct;
            try
            {
                direct = await pulls[i];
                if (direct.AppliedSequence < source.AppliedSequence)
                {
                    // The source restarted from an empty state (a new model version): start over.
                    source.Ledger = new EventLedger(table);
                    source.AppliedSequence = 0;
                    direct = await GrainFactory.GetGrain<IEntityGrain>(source.From).GetDirectEventsAsync(0);
                }
            }
            catch (Exception ex)
            {
                // Answer with what is known rather than fail the query; the next query pulls again.
                LogInheritedUnavailable(ex, Id, source.From);
                continue;
            }

            foreach (var e in direct.Events)
            {
                if (e.Sequence > source.AppliedSequence && source.Ledger.TryAdd(e))
                {
                    changeStamp++;
                }
            }

            source.AppliedSequence = Math.Max(source.AppliedSequence, direct.AppliedSequence);
        }
    }

    public Task<DirectEvents> GetDirectEventsAsync(long afterSequence)
    {
        var from = (int)Math.Clamp(afterSequence, 0, AppliedSequence);
        return Task.FromResult(new DirectEvents(AppliedSequence, bySequence.GetRange(from, bySequence.Count - from)));
    }

    private ImpactView View() => new(
        Id,
        ledger,
        inherited.Values.Select(s => new InheritedSource(s.From, s.Weight, s.Ledger)).ToList());

    public async Task<ImpactReport> GetImpactAsync(DateTimeOffset at)
    {
        await SyncInheritedAsync();
        var view = View();
        Peak? peak = null;
        if (at.UtcTicks >= LatestTicks())
        {
            // Every event counts: the all-time peak, computed once per change.
            if (cachedPeak is not { } cached || cached.Stamp != changeStamp)
            {
                cachedPeak = (changeStamp, view.PeakAsOf(long.MaxValue));
            }

            peak = cachedPeak.Value.Peak;
        }

        var b = view.Evaluate(at, peak);
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
            table.Model.Version);
    }

    private long LatestTicks() => inherited.Values.Select(s => s.Ledger.MaxTicks).Append(ledger.MaxTicks).Max();

    public async Task<ExplainReport> ExplainAsync(DateTimeOffset at, int limit)
    {
        await SyncInheritedAsync();
        var contributions = View().Explain(at, limit)
            .Select(c => new ContributionReport(c.EventId, c.Entity, c.Type.WireName(), c.OccurredAt, c.Category.WireName(), c.Contribution, c.Share))
            .ToList();
        return new ExplainReport(Id, at, contributions);
    }

    public async Task<HistoryReport> GetHistoryAsync(IReadOnlyList<DateTimeOffset> points)
    {
        await SyncInheritedAsync();
        var scores = View().History(points);
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
}
