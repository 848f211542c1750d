using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Ranking;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Grains;

/// <summary>
/// The standings a partition kept in grain storage before standings were stored per entity (IStandingStore): read once,
/// when a partition first activates after the upgrade, and then cleared.
/// </summary>
[GenerateSerializer]
public sealed class LeaderboardPartitionState
{
    [Id(0)] public Dictionary<string, StandingReport> Standings { get; set; } = new(StringComparer.Ordinal);
}

/// <inheritdoc cref="ILeaderboardPartitionGrain"/>
/// <remarks>
/// It stores its entities' standings (IStandingStore), a row each, writing only those that changed since its last write
/// every <see cref="LeaderboardOptions.SaveInterval"/>, in one transaction: a partition that moves reloads its
/// entities' last standings, idle ones included, without a write per entity per change (the entities' own snapshots,
/// which used to carry them, are skipped for short tails) and without writing a million again because one changed.
/// </remarks>
public sealed partial class LeaderboardPartitionGrain(
    [PersistentState(GrainStorageNames.LeaderboardPartition, GrainStorageNames.Snapshots)] IPersistentState<LeaderboardPartitionState> legacy,
    IStandingStore stored,
    Orleans.Serialization.Serializer serializer,
    DecayTable table,
    TimeProvider time,
    IOptions<LeaderboardOptions> options,
    StorageGates storageGates,
    ILogger<LeaderboardPartitionGrain> logger) : Grain, ILeaderboardPartitionGrain
{
    private readonly Dictionary<string, StandingReport> reports = new(StringComparer.Ordinal);

    // Most entities inherit nothing. Their reports share one array of zeros (never written: standings are only read
    // here), which saves about 100 bytes for every entity a partition holds, idle ones included (docs/performance.md).
    private static readonly double[] NothingInherited = new double[EventTypes.Count];

    private readonly HashSet<string> changed = new(StringComparer.Ordinal);

    // The entities whose standing changed since the last write to the store.
    private readonly HashSet<string> unsaved = new(StringComparer.Ordinal);

    // The reports as rankable standings, converted once per report rather than every entity on every publication.
    private readonly Dictionary<string, Standing> standings = new(StringComparer.Ordinal);
    private DateTimeOffset lastPublished = DateTimeOffset.MinValue;

    // The last published candidates, and when they were last ranked from every standing.
    private List<Standing> candidates = [];
    private DateTimeOffset lastFullRanking = DateTimeOffset.MinValue;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var partition = (int)this.GetPrimaryKeyLong();
        await foreach (var standing in stored.LoadPartitionAsync(partition, cancellationToken))
        {
            Accept(serializer.Deserialize<StandingReport>(standing.Data)!);
        }

        unsaved.Clear(); // as stored; the legacy ones below are not, until the first write
        if (legacy.State.Standings.Count > 0)
        {
            foreach (var report in legacy.State.Standings.Values)
            {
                Accept(report);
            }

            await SaveAsync(cancellationToken); // stored as rows before the old state goes
            if (unsaved.Count > 0)
            {
                throw new InvalidOperationException($"leaderboard partition {partition}: the standings of its old state could not be stored");
            }

            await legacy.ClearStateAsync(cancellationToken);
        }

        changed.Clear(); // loaded, not changed: nothing to announce on the live feed
        var interval = options.Value.PublishInterval;
        this.RegisterGrainTimer(PublishAsync, interval, interval);
        // Interleaved: waiting for the process's storage gate must not hold up reports and score queries.
        this.RegisterGrainTimer(_ => SaveAsync(CancellationToken.None), new GrainTimerCreationOptions(options.Value.SaveInterval, options.Value.SaveInterval) { Interleave = true });
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => SaveAsync(cancellationToken);

    /// <summary>Writes the standings that changed since the last write; on failure they stay due for the next one.</summary>
    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        if (unsaved.Count == 0)
        {
            return;
        }

        var partition = (int)this.GetPrimaryKeyLong();
        var due = unsaved.Where(reports.ContainsKey).Select(id => new StoredStanding(id, partition, serializer.SerializeToArray(reports[id]))).ToList();
        unsaved.Clear();
        try
        {
            await storageGates.Writes.WaitAsync(cancellationToken);
            try
            {
                await stored.SaveAsync(due, cancellationToken);
            }
            finally
            {
                storageGates.Writes.Release();
            }
        }
        catch (Exception ex)
        {
            foreach (var standing in due)
            {
                unsaved.Add(standing.Entity);
            }

            LogSaveFailed(ex, partition, due.Count);
        }
    }

    public Task ReportManyAsync(StandingBatch received)
    {
        foreach (var report in received.Reports)
        {
            Accept(report);
        }

        return Task.CompletedTask;
    }

    private void Accept(StandingReport report)
    {
        if (report.Inherited.Length == NothingInherited.Length && Array.TrueForAll(report.Inherited, v => v == 0))
        {
            report = report with { Inherited = NothingInherited };
        }

        // Reports can overtake each other; the newest instant wins.
        if (!reports.TryGetValue(report.Entity, out var known) || known.AtTicks <= report.AtTicks)
        {
            reports[report.Entity] = report;
            standings.Remove(report.Entity);
            changed.Add(report.Entity);
            unsaved.Add(report.Entity);
        }
    }

    public Task<IReadOnlyList<double>> ScoresAsync(IReadOnlyList<string> entities, DateTimeOffset at)
    {
        IReadOnlyList<double> scores = entities
            .Select(id => reports.TryGetValue(id, out var report)
                ? Rankings.ScoreOn(StandingOf(id, report), Board.Global, Math.Max(at.UtcTicks, report.AtTicks), table)
                : 0)
            .ToList();
        return Task.FromResult(scores);
    }

    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (changed.Count == 0 && now - lastPublished < options.Value.RefreshInterval)
        {
            return;
        }

        // Score messages only for an audience (stream clients somewhere, or alert rules): asked first, so that what
        // follows reads the state after the call.
        var feed = GrainFactory.GetGrain<ILiveFeedGrain>(0);
        var audience = changed.Count > 0 && await HasScoreAudienceAsync(feed);

        // Every standing is ranked again at the refresh interval, since decay reorders them; in between, only the last
        // candidates and the entities that changed can have entered a top k (the others only decayed).
        IReadOnlyCollection<Standing> pool;
        if (now - lastFullRanking >= options.Value.RefreshInterval)
        {
            pool = reports.Select(pair => StandingOf(pair.Key, pair.Value)).ToList();
            lastFullRanking = now;
        }
        else
        {
            var union = candidates.Where(c => !changed.Contains(c.Entity)).ToDictionary(c => c.Entity, StringComparer.Ordinal);
            foreach (var id in changed)
            {
                union[id] = StandingOf(id, reports[id]);
            }

            pool = union.Values;
        }

        candidates = Rankings.Candidates(pool, now.UtcTicks, table, options.Value.Candidates).ToList();
        var messages = audience ? changed.Select(id => ScoreMessage(StandingOf(id, reports[id]), now)).ToList() : [];
        changed.Clear();
        lastPublished = now;

        try
        {
            await GrainFactory.GetGrain<ILeaderboardGrain>(0).PublishAsync((int)this.GetPrimaryKeyLong(),
                new StandingBatch(candidates.Select(c => StandingReport.From(c.Entity, c.Name, c.Kind, c.Vector)).ToList()));
            if (messages.Count > 0)
            {
                await feed.PublishAsync(messages);
            }
        }
        catch (Exception ex)
        {
            // The next tick publishes again (the refresh interval guarantees it); nothing is lost but latency.
            LogPublishFailed(ex, this.GetPrimaryKeyLong());
        }

    }

    private async Task<bool> HasScoreAudienceAsync(ILiveFeedGrain feed)
    {
        try
        {
            return await feed.HasScoreAudienceAsync();
        }
        catch (Exception ex)
        {
            // Unknown: publish, as before the question existed.
            LogAudienceUnknown(ex, this.GetPrimaryKeyLong());
            return true;
        }
    }

    private Standing StandingOf(string entity, StandingReport report)
    {
        if (!standings.TryGetValue(entity, out var standing))
        {
            standings[entity] = standing = report.ToStanding();
        }

        return standing;
    }

    private LiveMessage ScoreMessage(Standing standing, DateTimeOffset now)
    {
        var scores = standing.Vector.ScoresAt(now.UtcTicks, table);
        return LiveMessage.Unnumbered(new ScoreChanged(
            standing.Entity, standing.Name, standing.Kind.WireName(), now, scores.Score, scores.Direct, scores.Inherited, scores.Categories, scores.Regions));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaderboard partition {Partition} could not store {Count} standings; it will try again")]
    private partial void LogSaveFailed(Exception exception, int partition, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaderboard partition {Partition} could not ask the live feed whether anyone watches; it publishes its score changes")]
    private partial void LogAudienceUnknown(Exception exception, long partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaderboard partition {Partition} could not publish; it will on its next tick")]
    private partial void LogPublishFailed(Exception exception, long partition);
}
