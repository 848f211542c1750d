namespace ImpactGrains.Alerting;

/// <summary>
/// Alert rules, fired alerts and their webhook deliveries. Recording an alert writes its delivery in the same
/// transaction (an outbox), so a recorded alert is delivered at least once even if the process dies right after.
/// </summary>
public interface IAlertStore
{
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

