using System.Data.Common;
using ImpactGrains.Alerting;

namespace ImpactGrains.Storage;

/// <summary>What both alert stores decide before they write.</summary>
internal static class AlertStoreRules
{
    /// <summary>The rule to store: an empty id gets a generated one.</summary>
    public static AlertRule ToCreate(AlertRule rule) => string.IsNullOrEmpty(rule.Id) ? rule with { Id = AlertIds.New("rule") } : rule;

    /// <summary>The rule as it reads back: its creation instant is kept as UTC ticks.</summary>
    public static AlertRule AsStored(AlertRule rule) => rule with { CreatedAt = new DateTimeOffset(rule.CreatedAt.UtcTicks, TimeSpan.Zero) };

    /// <summary>A delivery is given up as failed, or cancelled; nothing else ends it without a delivery.</summary>
    public static void RequireGivenUp(DeliveryStatus status)
    {
        if (status is not (DeliveryStatus.Failed or DeliveryStatus.Cancelled))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "failed or cancelled");
        }
    }
}

/// <summary>
/// The alert store's columns and how a row reads back, the same on both providers; only the delivery's instants differ
/// in type (<typeparamref name="TInstant"/>: ticks on SQLite, timestamptz on PostgreSQL, whose clock sets them).
/// </summary>
internal static class AlertRows<TInstant>
    where TInstant : IInstantColumn
{
    /// <summary>An alert's columns (10, from 0), then its delivery's (9, from 10), then its rule's (8, from 19).</summary>
    public const string AlertColumns = "a.id, a.rule_id, a.target, a.metric, a.entity, a.group_id, a.value, a.threshold, a.at, a.details";

    public const string DeliveryColumns = "d.id, d.alert_id, d.rule_id, d.status, d.attempts, d.created_at, d.due_at, d.completed_at, d.last_error";

    public const string RuleColumns = "r.id, r.target, r.metric, r.threshold, r.cool_down, r.webhook, r.secret, r.created_at";

    public const string AttemptColumns = "attempt, at, succeeded, status_code, error, duration";

    public static AlertRule ReadRule(DbDataReader reader) => ReadRule(reader, 0);

    /// <summary>An alert with its delivery: <see cref="AlertColumns"/>, <see cref="DeliveryColumns"/>.</summary>
    public static StoredAlert ReadStoredAlert(DbDataReader reader) => new(ReadAlert(reader, 0), ReadDelivery(reader, 10));

    /// <summary>A claimed delivery: <see cref="AlertColumns"/>, <see cref="DeliveryColumns"/>, <see cref="RuleColumns"/> (null when the rule is gone).</summary>
    public static ClaimedDelivery ReadClaimed(DbDataReader reader, string lease) =>
        new(ReadDelivery(reader, 10), ReadAlert(reader, 0), reader.IsDBNull(19) ? null : ReadRule(reader, 19), lease);

    public static DeliveryAttempt ReadAttempt(DbDataReader reader) => new(
        reader.GetInt32(0),
        TInstant.Read(reader, 1),
        reader.GetBoolean(2),
        reader.IsDBNull(3) ? null : reader.GetInt32(3),
        reader.GetNullableString(4),
        TimeSpan.FromTicks(reader.GetInt64(5)));

    private static AlertRule ReadRule(DbDataReader reader, int i) => new(
        reader.GetString(i),
        reader.GetString(i + 1),
        reader.GetString(i + 2),
        reader.GetDouble(i + 3),
        TimeSpan.FromTicks(reader.GetInt64(i + 4)),
        new Uri(reader.GetString(i + 5), UriKind.Absolute),
        reader.GetString(i + 6),
        TicksColumn.Read(reader, i + 7));

    private static AlertRecord ReadAlert(DbDataReader reader, int i) => new(
        reader.GetString(i),
        reader.GetString(i + 1),
        reader.GetString(i + 2),
        reader.GetString(i + 3),
        reader.GetNullableString(i + 4),
        reader.GetNullableString(i + 5),
        reader.GetDouble(i + 6),
        reader.GetDouble(i + 7),
        TicksColumn.Read(reader, i + 8),
        reader.GetString(i + 9));

    private static AlertDelivery ReadDelivery(DbDataReader reader, int i) => new(
        reader.GetString(i),
        reader.GetString(i + 1),
        reader.GetString(i + 2),
        AlertStoreText.ParseStatus(reader.GetString(i + 3)),
        reader.GetInt32(i + 4),
        TInstant.Read(reader, i + 5),
        reader.GetNullableInstant<TInstant>(i + 6),
        reader.GetNullableInstant<TInstant>(i + 7),
        reader.GetNullableString(i + 8));
}
