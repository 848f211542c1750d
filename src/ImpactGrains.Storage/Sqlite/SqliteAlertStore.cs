using ImpactGrains.Alerting;
using Microsoft.Data.Sqlite;
using static ImpactGrains.Storage.AlertRows<ImpactGrains.Storage.TicksColumn>;

namespace ImpactGrains.Storage.Sqlite;

/// <summary>
/// Alert rules, alerts and the webhook delivery outbox of the embedded profile, in impact.db beside the event log.
/// Instants are UTC ticks, as in the log. The embedded profile is one process, so a claim needs no row lock: the
/// UPDATE … RETURNING that takes the lease is atomic.
/// </summary>
public sealed class SqliteAlertStore(SqliteDatabase database) : IAlertStore
{
    private Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken) =>
        SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);

    public async Task<IReadOnlyList<AlertRule>> ListRulesAsync(RulePosition? after = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {RuleColumns} FROM alert_rules r
            WHERE (r.created_at, r.id) > ($afterTicks, $afterId)
            ORDER BY r.created_at, r.id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$afterTicks", after?.CreatedTicks ?? long.MinValue);
        command.Parameters.AddWithValue("$afterId", after?.Id ?? "");
        command.Parameters.AddWithValue("$limit", limit ?? -1);
        return await StoredRows.ReadAllAsync(command, ReadRule, cancellationToken);
    }

    public async Task<AlertRule?> FindRuleAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {RuleColumns} FROM alert_rules r WHERE r.id = $id";
        command.Parameters.AddWithValue("$id", id);
        return await StoredRows.ReadFirstAsync(command, ReadRule, cancellationToken);
    }

    public async Task<AlertRule?> CreateRuleAsync(AlertRule rule, CancellationToken cancellationToken = default)
    {
        rule = AlertStoreRules.ToCreate(rule);

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO alert_rules (id, target, metric, threshold, cool_down, webhook, secret, created_at)
            VALUES ($id, $target, $metric, $threshold, $coolDown, $webhook, $secret, $createdAt)
            ON CONFLICT (id) DO NOTHING
            """;
        command.Parameters.AddWithValue("$id", rule.Id);
        command.Parameters.AddWithValue("$target", rule.Target);
        command.Parameters.AddWithValue("$metric", rule.Metric);
        command.Parameters.AddWithValue("$threshold", rule.Threshold);
        command.Parameters.AddWithValue("$coolDown", rule.CoolDown.Ticks);
        command.Parameters.AddWithValue("$webhook", rule.Webhook.AbsoluteUri);
        command.Parameters.AddWithValue("$secret", rule.Secret);
        command.Parameters.AddWithValue("$createdAt", rule.CreatedAt.UtcTicks);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1
            ? AlertStoreRules.AsStored(rule)
            : null;
    }

    public async Task<bool> DeleteRuleAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM alert_rules WHERE id = $id";
        delete.Parameters.AddWithValue("$id", id);
        if (await delete.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            return false;
        }

        await using var cancel = connection.CreateCommand();
        cancel.CommandText = """
            UPDATE alert_deliveries
            SET status = 'cancelled', due_at = NULL, claimed_until = NULL, lease = NULL, completed_at = $now, last_error = 'the rule was deleted'
            WHERE rule_id = $id AND status = 'pending'
            """;
        cancel.Parameters.AddWithValue("$id", id);
        cancel.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.UtcTicks);
        await cancel.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> RecordAsync(AlertRecord alert, CancellationToken cancellationToken = default)
    {
        var now = DateTimeOffset.UtcNow.UtcTicks;
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO alerts (id, rule_id, target, metric, entity, group_id, value, threshold, at, details, created_at)
            VALUES ($id, $ruleId, $target, $metric, $entity, $group, $value, $threshold, $at, $details, $now)
            ON CONFLICT (id) DO NOTHING
            """;
        insert.Parameters.AddWithValue("$id", alert.Id);
        insert.Parameters.AddWithValue("$ruleId", alert.RuleId);
        insert.Parameters.AddWithValue("$target", alert.Target);
        insert.Parameters.AddWithValue("$metric", alert.Metric);
        insert.Parameters.AddWithValue("$entity", (object?)alert.Entity ?? DBNull.Value);
        insert.Parameters.AddWithValue("$group", (object?)alert.Group ?? DBNull.Value);
        insert.Parameters.AddWithValue("$value", alert.Value);
        insert.Parameters.AddWithValue("$threshold", alert.Threshold);
        insert.Parameters.AddWithValue("$at", alert.At.UtcTicks);
        insert.Parameters.AddWithValue("$details", alert.Details);
        insert.Parameters.AddWithValue("$now", now);
        if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            return false;
        }

        await using var outbox = connection.CreateCommand();
        outbox.CommandText = """
            INSERT INTO alert_deliveries (id, alert_id, rule_id, status, due_at, created_at)
            VALUES ($id, $alertId, $ruleId, 'pending', $now, $now)
            """;
        outbox.Parameters.AddWithValue("$id", AlertIds.New("dlv"));
        outbox.Parameters.AddWithValue("$alertId", alert.Id);
        outbox.Parameters.AddWithValue("$ruleId", alert.RuleId);
        outbox.Parameters.AddWithValue("$now", now);
        await outbox.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<StoredAlert>> ListAlertsAsync(int limit, DateTimeOffset? before = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {AlertColumns}, {DeliveryColumns}
            FROM alerts a JOIN alert_deliveries d ON d.alert_id = a.id
            WHERE a.at < $before
            ORDER BY a.at DESC, a.id DESC
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$before", before?.UtcTicks ?? long.MaxValue);
        command.Parameters.AddWithValue("$limit", limit);
        return await StoredRows.ReadAllAsync(command, ReadStoredAlert, cancellationToken);
    }

    public async Task<StoredAlert?> FindAlertAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {AlertColumns}, {DeliveryColumns}
            FROM alerts a JOIN alert_deliveries d ON d.alert_id = a.id
            WHERE a.id = $id
            """;
        command.Parameters.AddWithValue("$id", id);
        return await StoredRows.ReadFirstAsync(command, ReadStoredAlert, cancellationToken);
    }

    public async Task<DateTimeOffset?> LastFiredAsync(string ruleId, string target, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT max(at) FROM alerts WHERE rule_id = $ruleId AND target = $target";
        command.Parameters.AddWithValue("$ruleId", ruleId);
        command.Parameters.AddWithValue("$target", target);
        return await command.ExecuteScalarAsync(cancellationToken) is long ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
    }

    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimDueDeliveriesAsync(int max, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var now = DateTimeOffset.UtcNow.UtcTicks;
        var token = AlertIds.New("lease");
        await using var connection = await OpenAsync(cancellationToken);

        // The dispatcher polls every second: look first without a write transaction, so that an idle poll never takes
        // the database's write lock away from the event log's writer.
        await using (var any = connection.CreateCommand())
        {
            any.CommandText = """
                SELECT 1 FROM alert_deliveries
                WHERE status = 'pending' AND due_at <= $now AND (claimed_until IS NULL OR claimed_until < $now)
                LIMIT 1
                """;
            any.Parameters.AddWithValue("$now", now);
            if (await any.ExecuteScalarAsync(cancellationToken) is null)
            {
                return [];
            }
        }

        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var claim = connection.CreateCommand())
        {
            claim.CommandText = """
                UPDATE alert_deliveries SET claimed_until = $until, lease = $lease
                WHERE id IN (
                    SELECT id FROM alert_deliveries
                    WHERE status = 'pending' AND due_at <= $now AND (claimed_until IS NULL OR claimed_until < $now)
                    ORDER BY due_at LIMIT $max)
                """;
            claim.Parameters.AddWithValue("$until", now + lease.Ticks);
            claim.Parameters.AddWithValue("$lease", token);
            claim.Parameters.AddWithValue("$now", now);
            claim.Parameters.AddWithValue("$max", max);
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return [];
            }
        }

        List<ClaimedDelivery> claimed;
        await using (var read = connection.CreateCommand())
        {
            read.CommandText = $"""
                SELECT {AlertColumns}, {DeliveryColumns}, {RuleColumns}
                FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id LEFT JOIN alert_rules r ON r.id = d.rule_id
                WHERE d.lease = $lease
                ORDER BY d.due_at
                """;
            read.Parameters.AddWithValue("$lease", token);
            claimed = await StoredRows.ReadAllAsync(read, reader => ReadClaimed(reader, token), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return claimed;
    }

    public async Task<int> RecordAttemptAsync(string deliveryId, DateTimeOffset at, bool succeeded, int? statusCode, string? error, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var count = connection.CreateCommand();
        count.CommandText = "UPDATE alert_deliveries SET attempts = attempts + 1 WHERE id = $id RETURNING attempts";
        count.Parameters.AddWithValue("$id", deliveryId);
        var number = await count.ExecuteScalarAsync(cancellationToken) is long n
            ? (int)n
            : throw new InvalidOperationException($"there is no delivery '{deliveryId}'");

        await using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO alert_delivery_attempts (delivery_id, attempt, at, succeeded, status_code, error, duration)
            VALUES ($id, $attempt, $at, $succeeded, $statusCode, $error, $duration)
            """;
        insert.Parameters.AddWithValue("$id", deliveryId);
        insert.Parameters.AddWithValue("$attempt", number);
        insert.Parameters.AddWithValue("$at", at.UtcTicks);
        insert.Parameters.AddWithValue("$succeeded", succeeded ? 1 : 0);
        insert.Parameters.AddWithValue("$statusCode", (object?)statusCode ?? DBNull.Value);
        insert.Parameters.AddWithValue("$error", (object?)error ?? DBNull.Value);
        insert.Parameters.AddWithValue("$duration", duration.Ticks);
        await insert.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return number;
    }

    public async Task<bool> MarkDeliveredAsync(string deliveryId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE alert_deliveries
            SET status = 'delivered', due_at = NULL, claimed_until = NULL, lease = NULL, completed_at = $now, last_error = NULL
            WHERE id = $id AND status = 'pending'
            """;
        command.Parameters.AddWithValue("$id", deliveryId);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.UtcTicks);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> ScheduleRetryAsync(string deliveryId, string lease, TimeSpan delay, string error, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE alert_deliveries SET due_at = $due, claimed_until = NULL, lease = NULL, last_error = $error
            WHERE id = $id AND lease = $lease AND status = 'pending'
            """;
        command.Parameters.AddWithValue("$id", deliveryId);
        command.Parameters.AddWithValue("$lease", lease);
        command.Parameters.AddWithValue("$due", DateTimeOffset.UtcNow.UtcTicks + delay.Ticks);
        command.Parameters.AddWithValue("$error", error);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> MarkFailedAsync(string deliveryId, string lease, DeliveryStatus status, string error, CancellationToken cancellationToken = default)
    {
        AlertStoreRules.RequireGivenUp(status);

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE alert_deliveries
            SET status = $status, due_at = NULL, claimed_until = NULL, lease = NULL, completed_at = $now, last_error = $error
            WHERE id = $id AND lease = $lease AND status = 'pending'
            """;
        command.Parameters.AddWithValue("$id", deliveryId);
        command.Parameters.AddWithValue("$lease", lease);
        command.Parameters.AddWithValue("$status", AlertStoreText.StatusName(status));
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.UtcTicks);
        command.Parameters.AddWithValue("$error", error);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<DeliveryAttempt>> ListAttemptsAsync(string deliveryId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {AttemptColumns} FROM alert_delivery_attempts WHERE delivery_id = $id ORDER BY attempt";
        command.Parameters.AddWithValue("$id", deliveryId);
        return await StoredRows.ReadAllAsync(command, ReadAttempt, cancellationToken);
    }
}
