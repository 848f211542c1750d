using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Ranking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Grains;

/// <summary>The last standings of a partition's entities, persisted so that a moved partition keeps its view.</summary>
[GenerateSerializer]
public sealed class LeaderboardPartitionState
{
    [Id(0)] public Dictionary<string, StandingReport> Standings { get; set; } = new(StringComparer.Ordinal);
}

/// <inheritdoc cref="ILeaderboardPartitionGrain"/>
public sealed partial class LeaderboardPartitionGrain(
    [PersistentState(GrainStorageNames.LeaderboardPartition, GrainStorageNames.Snapshots)] IPersistentState<LeaderboardPartitionState> state,
    DecayTable table,
    TimeProvider time,
    IOptions<LeaderboardOptions> options,
    ILogger<LeaderboardPartitionGrain> logger) : Grain, ILeaderboardPartitionGrain
{
    private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(5);

    // Most entities inherit nothing. Their reports share one array of zeros (never written: standings are only read
    // here), which saves about 100 bytes for every entity a partition holds, idle ones included (docs/performance.md).
    private static readonly double[] NothingInherited = new double[EventTypes.Count];

    private readonly HashSet<string> changed = new(StringComparer.Ordinal);

    // The reports as rankable standings, converted once per report rather than every entity on every publication.
    private readonly Dictionary<string, Standing> standings = new(StringComparer.Ordinal);
    private DateTimeOffset lastPublished = DateTimeOffset.MinValue;
    private DateTimeOffset lastSaved = DateTimeOffset.MinValue;
    private bool dirty;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var interval = options.Value.PublishInterval;
        this.RegisterGrainTimer(PublishAsync, interval, interval);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (dirty)
        {
            await state.WriteStateAsync(cancellationToken);
        }
    }

    public Task ReportManyAsync(IReadOnlyList<StandingReport> reports)
    {
        foreach (var received in reports)
        {
            var report = received;
            if (report.Inherited.Length == NothingInherited.Length && Array.TrueForAll(report.Inherited, v => v == 0))
            {
                report = report with { Inherited = NothingInherited };
            }

            // Reports can overtake each other; the newest instant wins.
            if (!state.State.Standings.TryGetValue(report.Entity, out var known) || known.AtTicks <= report.AtTicks)
            {
                state.State.Standings[report.Entity] = report;
                standings.Remove(report.Entity);
                changed.Add(report.Entity);
                dirty = true;
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<double>> ScoresAsync(IReadOnlyList<string> entities, DateTimeOffset at)
    {
        IReadOnlyList<double> scores = entities
            .Select(id => state.State.Standings.TryGetValue(id, out var report)
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

        var current = state.State.Standings.Select(pair => StandingOf(pair.Key, pair.Value)).ToList();
        var candidates = Rankings.Candidates(current, now.UtcTicks, table, options.Value.Candidates);
        var messages = changed.Select(id => ScoreMessage(standings[id], now)).ToList();
        changed.Clear();
        lastPublished = now;

        try
        {
            await GrainFactory.GetGrain<ILeaderboardGrain>(0).PublishAsync((int)this.GetPrimaryKeyLong(),
                candidates.Select(c => StandingReport.From(c.Entity, c.Name, c.Kind, c.Vector)).ToList());
            if (messages.Count > 0)
            {
                await GrainFactory.GetGrain<ILiveFeedGrain>(0).PublishAsync(messages);
            }
        }
        catch (Exception ex)
        {
            // The next tick publishes again (the refresh interval guarantees it); nothing is lost but latency.
            LogPublishFailed(ex, this.GetPrimaryKeyLong());
        }

        if (dirty && now - lastSaved >= SaveInterval)
        {
            await state.WriteStateAsync(cancellationToken);
            lastSaved = now;
            dirty = false;
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
        var vector = standing.Vector.DecayTo(now.UtcTicks, table);
        return LiveMessage.Unnumbered(new ScoreChanged(
            standing.Entity,
            standing.Name,
            standing.Kind.WireName(),
            now,
            table.ToScore(vector.Total),
            table.ToScore(vector.DirectTotal),
            table.ToScore(vector.InheritedTotal),
            EventTypes.Categories.ToDictionary(c => c.WireName(), c => table.ToScore(vector.Category(c))),
            vector.Regions.ToDictionary(r => r.Key, r => table.ToScore(r.Value.Sum()))));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaderboard partition {Partition} could not publish; it will on its next tick")]
    private partial void LogPublishFailed(Exception exception, long partition);
}
