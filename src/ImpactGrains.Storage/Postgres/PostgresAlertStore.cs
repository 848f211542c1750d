using ImpactGrains.Alerting;
using Npgsql;
using NpgsqlTypes;
using static ImpactGrains.Storage.AlertRows<ImpactGrains.Storage.TimestampColumn>;

namespace ImpactGrains.Storage.Postgres;

/// <summary>
/// Alert rules, alerts and the webhook delivery outbox on PostgreSQL, shared by every silo. Each write is one
/// statement (data-modifying CTEs), so it is atomic without an explicit transaction; the dispatchers of all silos claim
/// due deliveries with <c>FOR UPDATE SKIP LOCKED</c> and a lease, and the lease times come from the database's clock.
/// </summary>
public sealed class PostgresAlertStore(PostgresDatabase database) : IAlertStore
{
    private NpgsqlDataSource Source => database.DataSource;

    public async Task<IReadOnlyList<AlertRule>> ListRulesAsync(RulePosition? after = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand($"""
            SELECT {RuleColumns} FROM alert_rules r
            WHERE (r.created_at, r.id) > ($1, $2)
            ORDER BY r.created_at, r.id LIMIT $3
            """);
        command.Parameters.AddWithValue(after?.CreatedTicks ?? long.MinValue);
        command.Parameters.AddWithValue(after?.Id ?? "");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = limit is { } n ? (long)n : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        return await StoredRows.ReadAllAsync(command, ReadRule, cancellationToken);
    }

    public async Task<AlertRule?> FindRuleAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand($"SELECT {RuleColumns} FROM alert_rules r WHERE r.id = $1");
        command.Parameters.AddWithValue(id);
        return await StoredRows.ReadFirstAsync(command, ReadRule, cancellationToken);
    }

    public async Task<AlertRule?> CreateRuleAsync(AlertRule rule, CancellationToken cancellationToken = default)
    {
        rule = AlertStoreRules.ToCreate(rule);

        await using var command = Source.CreateCommand("""
            INSERT INTO alert_rules (id, target, metric, threshold, cool_down, webhook, secret, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (id) DO NOTHING
            """);
        command.Parameters.AddWithValue(rule.Id);
        command.Parameters.AddWithValue(rule.Target);
        command.Parameters.AddWithValue(rule.Metric);
        command.Parameters.AddWithValue(rule.Threshold);
        command.Parameters.AddWithValue(rule.CoolDown.Ticks);
        command.Parameters.AddWithValue(rule.Webhook.AbsoluteUri);
        command.Parameters.AddWithValue(rule.Secret);
        command.Parameters.AddWithValue(rule.CreatedAt.UtcTicks);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1
            ? AlertStoreRules.AsStored(rule)
            : null;
    }

    public async Task<bool> DeleteRuleAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            WITH deleted AS (DELETE FROM alert_rules WHERE id = $1 RETURNING id),
            cancelled AS (
                UPDATE alert_deliveries
                SET status = 'cancelled', due_at = NULL, claimed_until = NULL, lease = NULL, completed_at = now(), last_error = 'the rule was deleted'
                WHERE rule_id IN (SELECT id FROM deleted) AND status = 'pending')
            SELECT count(*) FROM deleted
            """);
        command.Parameters.AddWithValue(id);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
    }

    public async Task<bool> RecordAsync(AlertRecord alert, CancellationToken cancellationToken = default)
    {
        // One statement: the alert and its outbox row commit together, or neither does.
        await using var command = Source.CreateCommand("""
            WITH inserted AS (
                INSERT INTO alerts (id, rule_id, target, metric, entity, group_id, value, threshold, at, details)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                ON CONFLICT (id) DO NOTHING
                RETURNING id)
            INSERT INTO alert_deliveries (id, alert_id, rule_id, status, due_at)
            SELECT $11, id, $2, 'pending', now() FROM inserted
            """);
        command.Parameters.AddWithValue(alert.Id);
        command.Parameters.AddWithValue(alert.RuleId);
        command.Parameters.AddWithValue(alert.Target);
        command.Parameters.AddWithValue(alert.Metric);
        command.Parameters.Add(Text(alert.Entity));
        command.Parameters.Add(Text(alert.Group));
        command.Parameters.AddWithValue(alert.Value);
        command.Parameters.AddWithValue(alert.Threshold);
        command.Parameters.AddWithValue(alert.At.UtcTicks);
        command.Parameters.AddWithValue(alert.Details);
        command.Parameters.AddWithValue(AlertIds.New("dlv"));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<StoredAlert>> ListAlertsAsync(int limit, DateTimeOffset? before = null, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand($"""
            SELECT {AlertColumns}, {DeliveryColumns}
            FROM alerts a JOIN alert_deliveries d ON d.alert_id = a.id
            WHERE a.at < $1
            ORDER BY a.at DESC, a.id DESC
            LIMIT $2
            """);
        command.Parameters.AddWithValue(before?.UtcTicks ?? long.MaxValue);
        command.Parameters.AddWithValue(limit);
        return await StoredRows.ReadAllAsync(command, ReadStoredAlert, cancellationToken);
    }

    public async Task<StoredAlert?> FindAlertAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand($"""
            SELECT {AlertColumns}, {DeliveryColumns}
            FROM alerts a JOIN alert_deliveries d ON d.alert_id = a.id
            WHERE a.id = $1
            """);
        command.Parameters.AddWithValue(id);
        return await StoredRows.ReadFirstAsync(command, ReadStoredAlert, cancellationToken);
    }

    public async Task<DateTimeOffset?> LastFiredAsync(string ruleId, string target, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("SELECT max(at) FROM alerts WHERE rule_id = $1 AND target = $2");
        command.Parameters.AddWithValue(ruleId);
        command.Parameters.AddWithValue(target);
        return await command.ExecuteScalarAsync(cancellationToken) is long ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
    }

    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimDueDeliveriesAsync(int max, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var token = AlertIds.New("lease");
        await using var command = Source.CreateCommand($"""
            WITH due AS (
                SELECT id FROM alert_deliveries
                WHERE status = 'pending' AND due_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
                ORDER BY due_at LIMIT $1
                FOR UPDATE SKIP LOCKED),
            d AS (
                UPDATE alert_deliveries SET claimed_until = now() + $2, lease = $3
                FROM due WHERE alert_deliveries.id = due.id
                RETURNING alert_deliveries.*)
            SELECT {AlertColumns}, {DeliveryColumns}, {RuleColumns}
            FROM d JOIN alerts a ON a.id = d.alert_id LEFT JOIN alert_rules r ON r.id = d.rule_id
            ORDER BY d.due_at
            """);
        command.Parameters.AddWithValue(max);
        command.Parameters.AddWithValue(lease);
        command.Parameters.AddWithValue(token);
        return await StoredRows.ReadAllAsync(command, reader => ReadClaimed(reader, token), cancellationToken);
    }

    public async Task<int> RecordAttemptAsync(string deliveryId, DateTimeOffset at, bool succeeded, int? statusCode, string? error, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        // The UPDATE's row lock numbers concurrent attempts of one delivery without gaps.
        await using var command = Source.CreateCommand("""
            WITH counted AS (UPDATE alert_deliveries SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts)
            INSERT INTO alert_delivery_attempts (delivery_id, attempt, at, succeeded, status_code, error, duration)
            SELECT $1, attempts, $2, $3, $4, $5, $6 FROM counted
            RETURNING attempt
            """);
        command.Parameters.AddWithValue(deliveryId);
        command.Parameters.AddWithValue(at.ToUniversalTime());
        command.Parameters.AddWithValue(succeeded);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)statusCode ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(Text(error));
        command.Parameters.AddWithValue(duration.Ticks);
        return await command.ExecuteScalarAsync(cancellationToken) is int number
            ? number
            : throw new InvalidOperationException($"there is no delivery '{deliveryId}'");
    }

    public async Task<bool> MarkDeliveredAsync(string deliveryId, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            UPDATE alert_deliveries
            SET status = 'delivered', due_at = NULL, claimed_until = NULL, lease = NULL, completed_at = now(), last_error = NULL
            WHERE id = $1 AND status = 'pending'
            """);
        command.Parameters.AddWithValue(deliveryId);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> ScheduleRetryAsync(string deliveryId, string lease, TimeSpan delay, string error, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            UPDATE alert_deliveries SET due_at = now() + $3, claimed_until = NULL, lease = NULL, last_error = $4
            WHERE id = $1 AND lease = $2 AND status = 'pending'
            """);
        command.Parameters.AddWithValue(deliveryId);
        command.Parameters.AddWithValue(lease);
        command.Parameters.AddWithValue(delay);
        command.Parameters.AddWithValue(error);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> MarkFailedAsync(string deliveryId, string lease, DeliveryStatus status, string error, CancellationToken cancellationToken = default)
    {
        AlertStoreRules.RequireGivenUp(status);

        await using var command = Source.CreateCommand("""
            UPDATE alert_deliveries
            SET status = $3, due_at = NULL, claimed_until = NULL, lease = NULL, completed_at = now(), last_error = $4
            WHERE id = $1 AND lease = $2 AND status = 'pending'
            """);
        command.Parameters.AddWithValue(deliveryId);
        command.Parameters.AddWithValue(lease);
        command.Parameters.AddWithValue(AlertStoreText.StatusName(status));
        command.Parameters.AddWithValue(error);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<DeliveryAttempt>> ListAttemptsAsync(string deliveryId, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand($"SELECT {AttemptColumns} FROM alert_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt");
        command.Parameters.AddWithValue(deliveryId);
        return await StoredRows.ReadAllAsync(command, ReadAttempt, cancellationToken);
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}
