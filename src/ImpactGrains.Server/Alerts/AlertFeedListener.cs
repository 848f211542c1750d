using System.Threading.Channels;
using ImpactGrains.Abstractions;
using ImpactGrains.Grains;
using ImpactGrains.Alerting;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Alerts;

/// <summary>
/// Turns the live feed into alert signals: every entity score change and every detected spike, and the score of each
/// targeted group that a change touches. It runs where the feed grain runs, so each message is judged once
/// cluster-wide; the feed hands messages over without waiting, and this works through them in the background.
/// Alerts that fire go back onto the feed.
/// </summary>
public sealed partial class AlertFeedListener : BackgroundService, ILiveFeedListener
{
    private static readonly TimeSpan GroupsCacheFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan UnknownGroupReloadAfter = TimeSpan.FromMilliseconds(200);

    private readonly Channel<IReadOnlyList<LiveMessage>> queue = Channel.CreateBounded<IReadOnlyList<LiveMessage>>(
        new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });

    private readonly AlertEvaluator evaluator;
    private readonly IGrainFactory grains;
    private readonly IEntityCatalog catalog;
    private readonly ILogger<AlertFeedListener> logger;
    private IReadOnlyList<GroupRecord> groups = [];
    private DateTimeOffset groupsLoadedAt = DateTimeOffset.MinValue;

    public AlertFeedListener(AlertEvaluator evaluator, IGrainFactory grains, IEntityCatalog catalog, ILogger<AlertFeedListener> logger)
    {
        this.evaluator = evaluator;
        this.grains = grains;
        this.catalog = catalog;
        this.logger = logger;
        evaluator.Fired += PublishAlert;
    }

    /// <summary>
    /// Unless the rules are known, and known to be none: a rule added on another silo is seen at the next reload
    /// (<see cref="AlertEvaluator.MayHaveRules"/>), which the score changes then flowing again trigger.
    /// </summary>
    public bool WantsScores => evaluator.MayHaveRules;

    public void OnPublished(IReadOnlyList<LiveMessage> messages)
    {
        if (messages.Any(m => m.Event is ScoreChanged or IncidentLogged) && !queue.Writer.TryWrite(messages))
        {
            LogBehind();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var messages in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await evaluator.EvaluateAsync(await SignalsAsync(messages, stoppingToken), stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogEvaluationFailed(ex);
            }
        }
    }

    private async Task<List<AlertSignal>> SignalsAsync(IReadOnlyList<LiveMessage> messages, CancellationToken ct)
    {
        var signals = new List<AlertSignal>();
        var needsTrend = await evaluator.NeedsTrendAsync(ct);
        var touched = new HashSet<string>(StringComparer.Ordinal);
        var latestAt = DateTimeOffset.MinValue;
        foreach (var message in messages)
        {
            switch (message.Event)
            {
                case ScoreChanged score:
                    var trend = needsTrend ? (await grains.GetEntityGrain(score.EntityId).GetImpactAsync(score.When)).Trend24h : 0;
                    signals.Add(new AlertSignal(score.EntityId, score.Kind, score.When, score.Score, score.Categories, trend, [], null));
                    touched.Add(score.EntityId);
                    latestAt = score.When > latestAt ? score.When : latestAt;
                    break;
                case IncidentLogged { Detected: true } incident:
                    var spike = new SpikeInfo(incident.Region, incident.Reports, incident.BaselineMean, incident.BaselineStdDev, incident.ZScore);
                    signals.Add(new AlertSignal(incident.EntityId, incident.Kind, incident.OccurredAt, double.NaN, new Dictionary<string, double>(), double.NaN, [], spike));
                    break;
            }
        }

        // Groups that some rule watches and that contain a changed entity: their own combined score.
        var targeted = await evaluator.TargetedGroupsAsync(ct);
        if (touched.Count > 0 && targeted.Count > 0)
        {
            foreach (var group in (await GroupsAsync(targeted, ct)).Where(g => targeted.Contains(g.Id) && g.Members.Any(m => touched.Contains(m.Entity))))
            {
                var impact = await grains.GetGrain<IGroupGrain>(group.Id).GetImpactAsync(latestAt);
                signals.Add(new AlertSignal(group.Id, AlertSignal.GroupKind, latestAt, impact.Score, new Dictionary<string, double>(), impact.Trend24h, [group.Id], null));
            }
        }

        return signals;
    }

    /// <summary>
    /// The groups, read at most every <see cref="GroupsCacheFor"/>, and again (at most every <see cref="UnknownGroupReloadAfter"/>)
    /// while a rule targets a group the copy does not have: a group created just after the copy was read would
    /// otherwise go unjudged for the changes of its first seconds, and its first alert could be missed for good.
    /// </summary>
    private async Task<IReadOnlyList<GroupRecord>> GroupsAsync(IReadOnlyCollection<string> targeted, CancellationToken ct)
    {
        var age = DateTimeOffset.UtcNow - groupsLoadedAt;
        if (age > GroupsCacheFor || (age > UnknownGroupReloadAfter && targeted.Any(t => !groups.Any(g => g.Id == t))))
        {
            groups = await catalog.ListGroupsAsync(cancellationToken: ct);
            groupsLoadedAt = DateTimeOffset.UtcNow;
        }

        return groups;
    }

    private void PublishAlert(AlertRecord alert)
    {
        var fired = new AlertFired(alert.Id, alert.RuleId, alert.Target, alert.Metric, alert.Entity, alert.Group, alert.Value, alert.Threshold, alert.At);
        grains.GetGrain<ILiveFeedGrain>(0).PublishAsync([LiveMessage.Unnumbered(fired)]).Ignore();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert evaluation fell behind the live feed; the oldest batches were skipped")]
    private partial void LogBehind();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert evaluation failed for a batch of the live feed")]
    private partial void LogEvaluationFailed(Exception exception);
}
