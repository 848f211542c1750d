using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Alerting;

/// <summary>
/// Judges signals against the alert rules and records the alerts that fire (with their webhook deliveries, see
/// <see cref="IAlertStore.RecordAsync"/>); <see cref="WebhookDispatcher"/> sends them. One per silo.
/// <list type="bullet">
/// <item>A rule matches a signal when its target is the signal's entity, <c>*</c>, or <c>group:&lt;id&gt;</c> for a group
/// listed in the signal's <see cref="AlertSignal.Groups"/>. A group rule is judged on each member's own values: the
/// group fires when any member reaches the threshold (until groups have signals of their own).</item>
/// <item>It fires when the metric's value is at least the threshold: score, a category (operational, market,
/// financial, reputational), trend24h; for spike the value is the spike's z-score and a signal without a spike
/// never fires.</item>
/// <item>At most once per cool-down for each (rule, target): the target is the entity for entity and <c>*</c> rules,
/// and <c>group:&lt;id&gt;</c> for group rules. The cool-down runs in signal time and is read back from the store, so
/// it survives restarts.</item>
/// <item>The alert id is derived from the rule, the target and the signal's instant, so evaluating the same signal
/// twice, concurrently or after a retry, records one alert.</item>
/// </list>
/// Rules are cached, reloaded every <see cref="AlertOptions.RuleRefresh"/> and at once after a change through this
/// silo's API (<see cref="RulesChanged"/>). <see cref="EvaluateAsync"/> throws when the store fails; calling it again
/// with the same signals is safe.
/// </summary>
public sealed partial class AlertEvaluator(
    IAlertStore store, AlertOutboxSignal outbox, IOptions<AlertOptions> options, TimeProvider time, ILogger<AlertEvaluator> logger)
{
    private const int Stripes = 64;

    private readonly SemaphoreSlim reload = new(1, 1);
    private readonly SemaphoreSlim[] stripes = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly ConcurrentDictionary<(string Rule, string Target), DateTimeOffset> lastFired = new();
    private volatile RuleSet? rules;
    private long loadedAt;
    private volatile bool stale = true;

    /// <summary>Makes the next evaluation reload the rules.</summary>
    public void RulesChanged() => stale = true;

    /// <summary>Raised for each alert recorded (not for duplicates or suppressed ones).</summary>
    public event Action<AlertRecord>? Fired;

    /// <summary>
    /// False only while the cached rules are fresh and there are none: then no signal can fire and score changes need
    /// not be sent here. Stale, unloaded or due for their periodic reload, the rules may exist, so it is true; the
    /// signals that then arrive make the next evaluation reload them.
    /// </summary>
    public bool MayHaveRules =>
        rules is not { IsEmpty: true } || stale || time.GetElapsedTime(Interlocked.Read(ref loadedAt)) >= options.Value.RuleRefresh;

    /// <summary>Whether any rule judges trend24h, which costs a grain call per signal to compute.</summary>
    public async Task<bool> NeedsTrendAsync(CancellationToken ct) => (await RulesAsync(ct)).HasTrend;

    /// <summary>The groups that some rule targets, so that only those groups' scores are computed.</summary>
    public async Task<IReadOnlyCollection<string>> TargetedGroupsAsync(CancellationToken ct) => (await RulesAsync(ct)).ByGroup.Keys;

    /// <summary>Judges the signals; returns once every alert that fired is recorded (not yet delivered).</summary>
    public async Task EvaluateAsync(IReadOnlyList<AlertSignal> signals, CancellationToken ct)
    {
        if (signals.Count == 0)
        {
            return;
        }

        var set = await RulesAsync(ct);
        if (set.IsEmpty)
        {
            return;
        }

        foreach (var signal in signals)
        {
            if (signal.EntityKind == AlertSignal.GroupKind)
            {
                // A group's own score: only rules that target that group judge it.
                foreach (var group in signal.Groups)
                {
                    if (set.ByGroup.TryGetValue(group, out var forThisGroup))
                    {
                        foreach (var rule in forThisGroup)
                        {
                            await JudgeAsync(rule, signal, GroupTarget(group), group, ct);
                        }
                    }
                }

                continue;
            }

            foreach (var rule in set.Any)
            {
                await JudgeAsync(rule, signal, signal.Entity, null, ct);
            }

            if (set.ByEntity.TryGetValue(signal.Entity, out var forEntity))
            {
                foreach (var rule in forEntity)
                {
                    await JudgeAsync(rule, signal, signal.Entity, null, ct);
                }
            }

            foreach (var group in signal.Groups)
            {
                if (set.ByGroup.TryGetValue(group, out var forGroup))
                {
                    foreach (var rule in forGroup)
                    {
                        await JudgeAsync(rule, signal, GroupTarget(group), group, ct);
                    }
                }
            }
        }
    }

    /// <summary>The metric's value in the signal; null when the signal says nothing of it (spike without a spike).</summary>
    public static double? ValueOf(string metric, AlertSignal signal) => metric switch
    {
        AlertMetrics.Score => signal.Score,
        AlertMetrics.Trend24h => signal.Trend24h,
        AlertMetrics.Spike => signal.Spike?.ZScore,
        _ => signal.Categories.TryGetValue(metric, out var value) ? value : 0,
    };

    /// <summary>The alert's id: the same rule, target and instant always give the same id.</summary>
    public static string AlertId(string ruleId, string target, DateTimeOffset at)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{ruleId}\n{target}\n{at.UtcTicks.ToString(CultureInfo.InvariantCulture)}"));
        return "alert-" + Convert.ToHexStringLower(hash.AsSpan(0, 12));
    }

    public static string GroupTarget(string group) => "group:" + group;

    private async Task JudgeAsync(AlertRule rule, AlertSignal signal, string target, string? group, CancellationToken ct)
    {
        if (ValueOf(rule.Metric, signal) is not { } value || !(value >= rule.Threshold))
        {
            return;
        }

        var key = (rule.Id, target);
        if (lastFired.TryGetValue(key, out var known) && InCoolDown(rule, known, signal.At))
        {
            return;
        }

        var stripe = stripes[(int)((uint)HashCode.Combine(rule.Id, target) % Stripes)];
        await stripe.WaitAsync(ct);
        try
        {
            // Read the store even when the cache says it may fire: another silo, or this one before a restart, may
            // have fired since. This costs a query per alert fired, never per signal suppressed.
            var last = await store.LastFiredAsync(rule.Id, target, ct);
            if (lastFired.TryGetValue(key, out known) && (last is null || known > last))
            {
                last = known;
            }

            if (last is { } previous)
            {
                lastFired[key] = previous;
                if (InCoolDown(rule, previous, signal.At))
                {
                    return;
                }
            }

            var alert = new AlertRecord(
                AlertId(rule.Id, target, signal.At), rule.Id, target, rule.Metric, signal.Entity, group, value, rule.Threshold,
                signal.At, Details(signal));
            if (await store.RecordAsync(alert, ct))
            {
                LogFired(alert.Id, rule.Id, target, rule.Metric, value, rule.Threshold);
                outbox.Notify();
                Fired?.Invoke(alert);
            }

            lastFired[key] = signal.At;
        }
        finally
        {
            stripe.Release();
        }
    }

    // A signal older than the last alert is inside the cool-down too: signals may arrive out of order.
    private static bool InCoolDown(AlertRule rule, DateTimeOffset last, DateTimeOffset at) => at < last + rule.CoolDown;

    /// <summary>The evidence: every value of the signal, as a JSON object.</summary>
    public static string Details(AlertSignal signal)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("entity", signal.Entity);
            json.WriteString("entityKind", signal.EntityKind);
            json.WriteNumber("score", signal.Score);
            json.WriteStartObject("categories");
            foreach (var (category, score) in signal.Categories.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                json.WriteNumber(category, score);
            }

            json.WriteEndObject();
            json.WriteNumber("trend24h", signal.Trend24h);
            json.WriteStartArray("groups");
            foreach (var group in signal.Groups)
            {
                json.WriteStringValue(group);
            }

            json.WriteEndArray();
            if (signal.Spike is { } spike)
            {
                json.WriteStartObject("spike");
                json.WriteString("region", spike.Region);
                json.WriteNumber("reports", spike.Reports);
                json.WriteNumber("baselineMean", spike.BaselineMean);
                json.WriteNumber("baselineStdDev", spike.BaselineStdDev);
                json.WriteNumber("zScore", spike.ZScore);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private async ValueTask<RuleSet> RulesAsync(CancellationToken ct)
    {
        var current = rules;
        if (current is not null && !stale && time.GetElapsedTime(Interlocked.Read(ref loadedAt)) < options.Value.RuleRefresh)
        {
            return current;
        }

        await reload.WaitAsync(ct);
        try
        {
            current = rules;
            if (current is not null && !stale && time.GetElapsedTime(Interlocked.Read(ref loadedAt)) < options.Value.RuleRefresh)
            {
                return current;
            }

            // Cleared before reading, so that a change made while the rules load marks them stale again.
            stale = false;
            IReadOnlyList<AlertRule> list;
            try
            {
                list = await store.ListRulesAsync(cancellationToken: ct);
            }
            catch (Exception ex) when (current is not null && !ct.IsCancellationRequested)
            {
                // Keep judging with the rules we have; try again after the next refresh interval.
                LogReloadFailed(ex);
                Interlocked.Exchange(ref loadedAt, time.GetTimestamp());
                return current;
            }

            var set = new RuleSet(list);
            foreach (var key in lastFired.Keys.Where(k => !set.Ids.Contains(k.Rule)))
            {
                lastFired.TryRemove(key, out _);
            }

            rules = set;
            Interlocked.Exchange(ref loadedAt, time.GetTimestamp());
            return set;
        }
        finally
        {
            reload.Release();
        }
    }

    private sealed class RuleSet
    {
        public bool HasTrend { get; }

        public RuleSet(IReadOnlyList<AlertRule> rules)
        {
            foreach (var rule in rules)
            {
                Ids.Add(rule.Id);
                HasTrend |= rule.Metric == AlertMetrics.Trend24h;
                if (rule.Target == "*")
                {
                    Any.Add(rule);
                }
                else if (rule.Target.StartsWith("group:", StringComparison.Ordinal))
                {
                    Add(ByGroup, rule.Target["group:".Length..], rule);
                }
                else
                {
                    Add(ByEntity, rule.Target, rule);
                }
            }
        }

        public HashSet<string> Ids { get; } = new(StringComparer.Ordinal);

        public List<AlertRule> Any { get; } = [];

        public Dictionary<string, List<AlertRule>> ByEntity { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, List<AlertRule>> ByGroup { get; } = new(StringComparer.Ordinal);

        public bool IsEmpty => Ids.Count == 0;

        private static void Add(Dictionary<string, List<AlertRule>> index, string key, AlertRule rule)
        {
            if (!index.TryGetValue(key, out var list))
            {
                index[key] = list = [];
            }

            list.Add(rule);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {AlertId} fired: rule {RuleId}, target {Target}, {Metric} {Value} >= {Threshold}")]
    private partial void LogFired(string alertId, string ruleId, string target, string metric, double value, double threshold);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reloading the alert rules failed; the cached rules stay in use")]
    private partial void LogReloadFailed(Exception exception);
}

/// <summary>Wakes the dispatcher when an alert has been recorded, so that delivery does not wait for the next poll.</summary>
public sealed class AlertOutboxSignal
{
    private readonly SemaphoreSlim signal = new(0, 1);

    public void Notify()
    {
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // already signalled
        }
    }

    /// <summary>True when notified, false after the timeout.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => signal.WaitAsync(timeout, cancellationToken);
}
