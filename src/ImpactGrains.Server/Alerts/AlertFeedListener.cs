using System.Text.Json;
using System.Threading.Channels;
using ImpactGrains.Abstractions;
using ImpactGrains.Grains;
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

    public void OnPublished(IReadOnlyList<LiveMessage> messages)
    {
        if (messages.Any(m => m.Type is "score" or "incident") && !queue.Writer.TryWrite(messages))
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
            if (message.Entity is not { } entity)
            {
                continue;
            }

            using var data = JsonDocument.Parse(message.Data);
            var root = data.RootElement;
            if (message.Type == "score")
            {
                var trend = needsTrend ? (await grains.GetGrain<IEntityGrain>(entity).GetImpactAsync(message.At)).Trend24h : 0;
                var categories = root.GetProperty("categories").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetDouble());
                signals.Add(new AlertSignal(entity, message.EntityKind ?? "", message.At, root.GetProperty("score").GetDouble(), categories, trend, [], null));
                touched.Add(entity);
                latestAt = message.At > latestAt ? message.At : latestAt;
            }
            else if (message.Type == "incident" && root.GetProperty("data") is var incident && incident.GetProperty("status").GetString() == "detected")
            {
                var spike = new SpikeInfo(root.GetProperty("region").GetString() ?? "", incident.GetProperty("reports").GetInt64(),
                    incident.GetProperty("baselineMean").GetDouble(), incident.GetProperty("baselineStdDev").GetDouble(), incident.GetProperty("zScore").GetDouble());
                signals.Add(new AlertSignal(entity, message.EntityKind ?? "", message.At, double.NaN, new Dictionary<string, double>(), double.NaN, [], spike));
            }
        }

        // Groups that some rule watches and that contain a changed entity: their own combined score.
        var targeted = await evaluator.TargetedGroupsAsync(ct);
        if (touched.Count > 0 && targeted.Count > 0)
        {
            foreach (var group in (await GroupsAsync(ct)).Where(g => targeted.Contains(g.Id) && g.Members.Any(m => touched.Contains(m.Entity))))
            {
                var impact = await grains.GetGrain<IGroupGrain>(group.Id).GetImpactAsync(latestAt);
                signals.Add(new AlertSignal(group.Id, AlertSignal.GroupKind, latestAt, impact.Score, new Dictionary<string, double>(), impact.Trend24h, [group.Id], null));
            }
        }

        return signals;
    }

    private async Task<IReadOnlyList<GroupRecord>> GroupsAsync(CancellationToken ct)
    {
        if (DateTimeOffset.UtcNow - groupsLoadedAt > GroupsCacheFor)
        {
            groups = await catalog.ListGroupsAsync(ct);
            groupsLoadedAt = DateTimeOffset.UtcNow;
        }

        return groups;
    }

    private void PublishAlert(AlertRecord alert)
    {
        var data = JsonSerializer.Serialize(new
        {
            id = alert.Id,
            rule = alert.RuleId,
            target = alert.Target,
            metric = alert.Metric,
            entity = alert.Entity,
            group = alert.Group,
            value = alert.Value,
            threshold = alert.Threshold,
            at = alert.At,
        });
        var message = new LiveMessage("", 0, "alert", alert.Group is null ? alert.Entity : null, null, alert.Group, alert.At, data);
        grains.GetGrain<ILiveFeedGrain>(0).PublishAsync([message]).Ignore();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert evaluation fell behind the live feed; the oldest batches were skipped")]
    private partial void LogBehind();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert evaluation failed for a batch of the live feed")]
    private partial void LogEvaluationFailed(Exception exception);
}
