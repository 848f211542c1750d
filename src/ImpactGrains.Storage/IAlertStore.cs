using System.Security.Cryptography;

namespace ImpactGrains.Storage;

/// <summary>
/// An alert rule. <see cref="Target"/> is an entity id, <c>group:&lt;group-id&gt;</c> or <c>*</c>; <see cref="Metric"/>
/// is one of <see cref="AlertMetrics.All"/>. The rule fires when the metric's value is at least
/// <see cref="Threshold"/>, at most once per <see cref="CoolDown"/> for each target it fires for.
/// </summary>
public sealed record AlertRule(string Id, string Target, string Metric, double Threshold, TimeSpan CoolDown, Uri Webhook, string Secret, DateTimeOffset CreatedAt);

/// <summary>Where a page of rules ends: the last rule's creation instant (UTC ticks) and id.</summary>
public readonly record struct RulePosition(long CreatedTicks, string Id);

/// <summary>
/// A fired alert. <see cref="Target"/> is what it fired for (the cool-down key): the entity id, or
/// <c>group:&lt;group-id&gt;</c> for a group rule. <see cref="Details"/> is a JSON object with the evidence.
/// </summary>
public sealed record AlertRecord(string Id, string RuleId, string Target, string Metric, string? Entity, string? Group, double Value, double Threshold, DateTimeOffset At, string Details);

public enum DeliveryStatus
{
    /// <summary>Not delivered yet; the dispatcher will try (again) once it is due.</summary>
    Pending,

    /// <summary>The webhook answered 2xx.</summary>
    Delivered,

    /// <summary>Given up after the configured number of attempts.</summary>
    Failed,

    /// <summary>Its rule was deleted before it was delivered.</summary>
    Cancelled,
}

/// <summary>The webhook delivery of one alert (one per alert): an outbox row written with the alert.</summary>
public sealed record AlertDelivery(
    string Id,
    string AlertId,
    string RuleId,
    DeliveryStatus Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? CompletedAt,
    string? LastError);

/// <summary>One HTTP attempt of a delivery, as written to the delivery log. <see cref="Number"/> counts from 1 per delivery.</summary>
public sealed record DeliveryAttempt(int Number, DateTimeOffset At, bool Succeeded, int? StatusCode, string? Error, TimeSpan Duration);

/// <summary>An alert with its delivery.</summary>
public sealed record StoredAlert(AlertRecord Alert, AlertDelivery Delivery);

/// <summary>
/// A delivery claimed by one dispatcher until its lease runs out. <see cref="Rule"/> is null when the rule is gone.
/// <see cref="Lease"/> identifies this claim: rescheduling or failing the delivery needs it, so a dispatcher whose lease
/// expired cannot overwrite the outcome of the one that claimed the delivery after it.
/// </summary>
public sealed record ClaimedDelivery(AlertDelivery Delivery, AlertRecord Alert, AlertRule? Rule, string Lease);

/// <summary>The metrics a rule can watch.</summary>
public static class AlertMetrics
{
    public const string Score = "score";
    public const string Trend24h = "trend24h";
    public const string Spike = "spike";

    /// <summary>score, the four categories, trend24h and spike.</summary>
    public static readonly IReadOnlyList<string> All = [Score, "operational", "market", "financial", "reputational", Trend24h, Spike];

    public static bool IsValid(string? metric) => metric is not null && All.Contains(metric, StringComparer.Ordinal);
}

public static class AlertIds
{
    /// <summary>A new random id with the prefix, such as <c>rule-3f9a0c1d2e4b5a69</c>.</summary>
    public static string New(string prefix) => $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
}

/// <summary>
/// Alert rules, fired alerts and their webhook deliveries. Recording an alert writes its delivery in the same
/// transaction (an outbox), so a recorded alert is delivered at least once even if the process dies right after.
/// </summary>
public interface IAlertStore
{
    /// <summary>Every rule, oldest first.</summary>
    /// <summary>
    /// Rules oldest first (by creation, then id): all of them, or a page of at most <paramref name="limit"/> after the
    /// position <paramref name="after"/> (the last rule's creation and id), which stays valid if that rule is deleted.
    /// </summary>
    Task<IReadOnlyList<AlertRule>> ListRulesAsync(RulePosition? after = null, int? limit = null, CancellationToken cancellationToken = default);

    Task<AlertRule?> FindRuleAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a new rule; an empty <see cref="AlertRule.Id"/> gets a generated one. Returns the stored rule, or null when
    /// a rule with that id exists.
    /// </summary>
    Task<AlertRule?> CreateRuleAsync(AlertRule rule, CancellationToken cancellationToken = default);

    /// <summary>Removes a rule and cancels its pending deliveries; its alerts stay. False when there was no such rule.</summary>
    Task<bool> DeleteRuleAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Inserts the alert and a pending delivery in one transaction. Idempotent on <see cref="AlertRecord.Id"/>: false
    /// (and nothing written) when the alert was recorded before.
    /// </summary>
    Task<bool> RecordAsync(AlertRecord alert, CancellationToken cancellationToken = default);

    /// <summary>Alerts newest first (by <see cref="AlertRecord.At"/>), only those strictly before <paramref name="before"/> when given.</summary>
    Task<IReadOnlyList<StoredAlert>> ListAlertsAsync(int limit, DateTimeOffset? before = null, CancellationToken cancellationToken = default);

    Task<StoredAlert?> FindAlertAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The latest <see cref="AlertRecord.At"/> of the rule's alerts for that target, or null; cool-downs survive restarts.</summary>
    Task<DateTimeOffset?> LastFiredAsync(string ruleId, string target, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims up to <paramref name="max"/> pending deliveries that are due and not leased, oldest due first, for
    /// <paramref name="lease"/>. On PostgreSQL many dispatchers can claim at once (<c>FOR UPDATE SKIP LOCKED</c>).
    /// </summary>
    Task<IReadOnlyList<ClaimedDelivery>> ClaimDueDeliveriesAsync(int max, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Writes one attempt to the delivery log and counts it on the delivery; returns the attempt's number.</summary>
    Task<int> RecordAttemptAsync(string deliveryId, DateTimeOffset at, bool succeeded, int? statusCode, string? error, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>Marks the delivery delivered and releases it. False when it was no longer pending.</summary>
    Task<bool> MarkDeliveredAsync(string deliveryId, CancellationToken cancellationToken = default);

    /// <summary>Keeps the delivery pending, due again after <paramref name="delay"/>, and releases it. False when the lease was lost.</summary>
    Task<bool> ScheduleRetryAsync(string deliveryId, string lease, TimeSpan delay, string error, CancellationToken cancellationToken = default);

    /// <summary>Gives the delivery up (or cancels it, for a deleted rule). False when the lease was lost.</summary>
    Task<bool> MarkFailedAsync(string deliveryId, string lease, DeliveryStatus status, string error, CancellationToken cancellationToken = default);

    /// <summary>The delivery log of one delivery, in order.</summary>
    Task<IReadOnlyList<DeliveryAttempt>> ListAttemptsAsync(string deliveryId, CancellationToken cancellationToken = default);
}

/// <summary>How delivery statuses are spelt in the database and on the wire.</summary>
public static class AlertStoreText
{
    public static string StatusName(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Pending => "pending",
        DeliveryStatus.Delivered => "delivered",
        DeliveryStatus.Failed => "failed",
        DeliveryStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static DeliveryStatus ParseStatus(string name) => name switch
    {
        "pending" => DeliveryStatus.Pending,
        "delivered" => DeliveryStatus.Delivered,
        "failed" => DeliveryStatus.Failed,
        "cancelled" => DeliveryStatus.Cancelled,
        _ => throw new InvalidOperationException($"unknown delivery status '{name}'"),
    };
}
