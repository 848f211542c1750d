namespace ImpactGrains.Alerting;

/// <summary>
/// An alert rule. <see cref="Target"/> is an entity id, <c>group:&lt;group-id&gt;</c> or <c>*</c>; <see cref="Metric"/>
/// is one of <see cref="AlertMetrics.All"/>. The rule fires when the metric's value is at least
/// <see cref="Threshold"/>, at most once per <see cref="CoolDown"/> for each target it fires for.
/// </summary>
public sealed record AlertRule(string Id, string Target, string Metric, double Threshold, TimeSpan CoolDown, Uri Webhook, string Secret, DateTimeOffset CreatedAt);

/// <summary>Where a page of rules ends: the last rule's creation instant (UTC ticks) and id.</summary>
public readonly record struct RulePosition(long CreatedTicks, string Id);
