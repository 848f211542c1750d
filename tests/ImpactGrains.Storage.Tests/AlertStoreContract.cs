using ImpactGrains.Alerting;
using ImpactGrains.Storage.Postgres;
using ImpactGrains.Storage.Sqlite;

namespace ImpactGrains.Storage.Tests;

/// <summary>
/// What every alert store must do, run against each provider: rules created once, listed in pages and deleted; alerts
/// recorded once with their outbox row; deliveries claimed under a lease by one dispatcher at a time and settled only
/// by the holder of that lease; the delivery log.
/// </summary>
public abstract class AlertStoreContract
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 10, 14, 0, 0, TimeSpan.Zero);

    protected abstract Task<OpenStore<IAlertStore>> CreateAsync();

    private static AlertRule Rule(string id = "", string target = "acme") =>
        new(id, target, "score", 50, TimeSpan.FromMinutes(10), new Uri("http://127.0.0.1:9/hook"), "s3cret-value", T0.AddTicks(1234567));

    private static AlertRecord Alert(string id, string ruleId, DateTimeOffset at, string target = "acme") =>
        new(id, ruleId, target, "score", "acme", null, 61.5, 50, at.AddTicks(7), """{"score":61.5}""");

    [Fact]
    public async Task Rules_are_created_once_found_and_deleted()
    {
        await using var open = await CreateAsync();
        var store = open.Store;
        var generated = (await store.CreateRuleAsync(Rule()))!;
        Assert.StartsWith("rule-", generated.Id);
        Assert.Equal(Rule(generated.Id), generated);
        var given = (await store.CreateRuleAsync(Rule("rule-given", "group:musk-companies")))!;
        Assert.Equal(Rule("rule-given", "group:musk-companies"), given);
        Assert.Null(await store.CreateRuleAsync(Rule("rule-given")));

        Assert.Equal(given, await open.OpenAnother().FindRuleAsync("rule-given"));
        Assert.Null(await store.FindRuleAsync("rule-none"));
        Assert.Equal([generated.Id, "rule-given"], (await store.ListRulesAsync()).Select(r => r.Id).Order(StringComparer.Ordinal));

        Assert.True(await store.DeleteRuleAsync("rule-given"));
        Assert.False(await store.DeleteRuleAsync("rule-given"));
        Assert.Null(await store.FindRuleAsync("rule-given"));
        Assert.Equal([generated], await store.ListRulesAsync());
    }

    [Fact]
    public async Task Rules_list_in_creation_order_and_a_page_continues_after_a_deleted_rule()
    {
        await using var open = await CreateAsync();
        var store = open.Store;
        Assert.Empty(await store.ListRulesAsync());
        // Creation instants out of id order, and two rules created at the same instant (ties go by id).
        await store.CreateRuleAsync(Rule("rule-c") with { CreatedAt = T0 });
        await store.CreateRuleAsync(Rule("rule-a") with { CreatedAt = T0.AddSeconds(2) });
        await store.CreateRuleAsync(Rule("rule-e") with { CreatedAt = T0.AddSeconds(1) });
        await store.CreateRuleAsync(Rule("rule-b") with { CreatedAt = T0.AddSeconds(1) });

        var all = await store.ListRulesAsync();
        Assert.Equal(["rule-c", "rule-b", "rule-e", "rule-a"], all.Select(r => r.Id));

        var first = await store.ListRulesAsync(limit: 2);
        Assert.Equal(all.Take(2), first);
        Assert.True(await store.DeleteRuleAsync(first[^1].Id));
        var rest = await store.ListRulesAsync(new RulePosition(first[^1].CreatedAt.UtcTicks, first[^1].Id), limit: 10);
        Assert.Equal(all.Skip(2), rest);
        Assert.Empty(await store.ListRulesAsync(new RulePosition(all[^1].CreatedAt.UtcTicks, all[^1].Id)));
    }

    [Fact]
    public async Task Recording_is_idempotent_writes_the_outbox_and_keeps_the_cool_down()
    {
        await using var open = await CreateAsync();
        var store = open.Store;
        var rule = (await store.CreateRuleAsync(Rule()))!;
        Assert.True(await store.RecordAsync(Alert("alert-1", rule.Id, T0)));
        Assert.False(await store.RecordAsync(Alert("alert-1", rule.Id, T0)));
        Assert.False(await store.RecordAsync(Alert("alert-1", rule.Id, T0.AddHours(1)))); // the id decides, not the content
        Assert.True(await store.RecordAsync(Alert("alert-2", rule.Id, T0.AddMinutes(20))));
        Assert.True(await store.RecordAsync(Alert("alert-3", rule.Id, T0.AddMinutes(5), "group:g") with { Entity = null, Group = "g" }));

        var alerts = await store.ListAlertsAsync(10);
        Assert.Equal(["alert-2", "alert-3", "alert-1"], alerts.Select(a => a.Alert.Id));
        Assert.Equal(Alert("alert-1", rule.Id, T0), alerts[2].Alert);
        Assert.Equal(Alert("alert-3", rule.Id, T0.AddMinutes(5), "group:g") with { Entity = null, Group = "g" }, alerts[1].Alert);
        Assert.All(alerts, a => Assert.Equal((DeliveryStatus.Pending, 0, rule.Id), (a.Delivery.Status, a.Delivery.Attempts, a.Delivery.RuleId)));
        Assert.All(alerts, a => Assert.Equal(a.Alert.Id, a.Delivery.AlertId));
        Assert.All(alerts, a => Assert.Null(a.Delivery.CompletedAt));
        Assert.Equal(3, alerts.Select(a => a.Delivery.Id).Distinct().Count());
        Assert.Equal(["alert-3", "alert-1"], (await store.ListAlertsAsync(10, T0.AddMinutes(20).AddTicks(7))).Select(a => a.Alert.Id));
        Assert.Equal(["alert-2"], (await store.ListAlertsAsync(1)).Select(a => a.Alert.Id));

        var found = (await open.OpenAnother().FindAlertAsync("alert-2"))!;
        Assert.Equal(alerts[0].Alert, found.Alert);
        Assert.Equal(alerts[0].Delivery, found.Delivery);
        Assert.Null(await store.FindAlertAsync("alert-none"));

        Assert.Equal(T0.AddMinutes(20).AddTicks(7), await store.LastFiredAsync(rule.Id, "acme"));
        Assert.Equal(T0.AddMinutes(5).AddTicks(7), await store.LastFiredAsync(rule.Id, "group:g"));
        Assert.Null(await store.LastFiredAsync(rule.Id, "other"));
        Assert.Null(await store.LastFiredAsync("rule-other", "acme"));

        // Deleting the rule keeps its alerts and cancels what was still to be delivered.
        Assert.True(await store.DeleteRuleAsync(rule.Id));
        var cancelled = await store.ListAlertsAsync(10);
        Assert.Equal(3, cancelled.Count);
        Assert.All(cancelled, a => Assert.Equal((DeliveryStatus.Cancelled, "the rule was deleted"), (a.Delivery.Status, a.Delivery.LastError)));
        Assert.All(cancelled, a => Assert.NotNull(a.Delivery.CompletedAt));
        Assert.Empty(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        Assert.Equal(T0.AddMinutes(20).AddTicks(7), await store.LastFiredAsync(rule.Id, "acme"));
    }

    [Fact]
    public async Task Claims_are_disjoint_and_only_the_lease_holder_settles_a_delivery()
    {
        await using var open = await CreateAsync();
        var store = open.Store;
        var rule = (await store.CreateRuleAsync(Rule()))!;
        for (var i = 0; i < 40; i++)
        {
            Assert.True(await store.RecordAsync(Alert($"alert-{i:00}", rule.Id, T0.AddMinutes(i))));
        }

        // Three dispatchers in turn: each gets what the others have not claimed, never more than it asked for.
        var claimed = new List<ClaimedDelivery>();
        foreach (var max in new[] { 15, 15, 15 })
        {
            var claim = await open.OpenAnother().ClaimDueDeliveriesAsync(max, TimeSpan.FromMinutes(1));
            Assert.True(claim.Count <= max);
            Assert.Single(claim.Select(c => c.Lease).Distinct());
            claimed.AddRange(claim);
        }

        Assert.Equal(40, claimed.Count);
        Assert.Equal(40, claimed.Select(c => c.Delivery.Id).Distinct().Count());
        Assert.All(claimed, c => Assert.Equal(rule, c.Rule));
        Assert.All(claimed, c => Assert.Equal(c.Alert.Id, c.Delivery.AlertId));
        Assert.Empty(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));

        var delivered = claimed[0];
        Assert.Equal(1, await store.RecordAttemptAsync(delivered.Delivery.Id, T0, false, 500, "HTTP 500", TimeSpan.FromMilliseconds(12)));
        Assert.Equal(2, await store.RecordAttemptAsync(delivered.Delivery.Id, T0.AddSeconds(1), true, 200, null, TimeSpan.FromMilliseconds(3)));
        Assert.Equal(3, await store.RecordAttemptAsync(delivered.Delivery.Id, T0.AddSeconds(2), false, null, "timed out", TimeSpan.FromTicks(1)));
        Assert.True(await store.MarkDeliveredAsync(delivered.Delivery.Id));
        Assert.False(await store.MarkDeliveredAsync(delivered.Delivery.Id));
        var log = await open.OpenAnother().ListAttemptsAsync(delivered.Delivery.Id);
        Assert.Equal(
            [new DeliveryAttempt(1, T0, false, 500, "HTTP 500", TimeSpan.FromMilliseconds(12)),
             new DeliveryAttempt(2, T0.AddSeconds(1), true, 200, null, TimeSpan.FromMilliseconds(3)),
             new DeliveryAttempt(3, T0.AddSeconds(2), false, null, "timed out", TimeSpan.FromTicks(1))],
            log);
        Assert.Empty(await store.ListAttemptsAsync(claimed[1].Delivery.Id));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.RecordAttemptAsync("dlv-none", T0, true, 200, null, TimeSpan.Zero));

        var retried = claimed[1];
        Assert.False(await store.ScheduleRetryAsync(retried.Delivery.Id, "lease-not-mine", TimeSpan.Zero, "x"));
        Assert.True(await store.ScheduleRetryAsync(retried.Delivery.Id, retried.Lease, TimeSpan.FromHours(1), "HTTP 503"));
        Assert.False(await store.ScheduleRetryAsync(retried.Delivery.Id, retried.Lease, TimeSpan.Zero, "released already"));
        var failed = claimed[2];
        Assert.False(await store.MarkFailedAsync(failed.Delivery.Id, "lease-not-mine", DeliveryStatus.Failed, "x"));
        Assert.True(await store.MarkFailedAsync(failed.Delivery.Id, failed.Lease, DeliveryStatus.Failed, "gave up"));
        var cancelled = claimed[3];
        Assert.True(await store.MarkFailedAsync(cancelled.Delivery.Id, cancelled.Lease, DeliveryStatus.Cancelled, "rule gone"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.MarkFailedAsync(claimed[4].Delivery.Id, claimed[4].Lease, DeliveryStatus.Delivered, "x"));
        var soon = claimed[5];
        Assert.True(await store.ScheduleRetryAsync(soon.Delivery.Id, soon.Lease, TimeSpan.Zero, "interrupted"));

        // Only the one released at once is due again; the others keep their leases, their later due time or their end.
        var again = Assert.Single(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        Assert.Equal(soon.Delivery.Id, again.Delivery.Id);
        Assert.Equal("interrupted", again.Delivery.LastError);
        Assert.NotEqual(soon.Lease, again.Lease);
        Assert.False(await store.MarkFailedAsync(soon.Delivery.Id, soon.Lease, DeliveryStatus.Failed, "stale lease"));

        var byId = (await store.ListAlertsAsync(100)).ToDictionary(a => a.Delivery.Id, a => a.Delivery);
        Assert.Equal(40, byId.Count);
        Assert.Equal((DeliveryStatus.Delivered, 3, (string?)null), (byId[delivered.Delivery.Id].Status, byId[delivered.Delivery.Id].Attempts, byId[delivered.Delivery.Id].LastError));
        Assert.NotNull(byId[delivered.Delivery.Id].CompletedAt);
        Assert.Null(byId[delivered.Delivery.Id].NextAttemptAt);
        Assert.Equal((DeliveryStatus.Pending, "HTTP 503"), (byId[retried.Delivery.Id].Status, byId[retried.Delivery.Id].LastError));
        Assert.True(byId[retried.Delivery.Id].NextAttemptAt > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.Null(byId[retried.Delivery.Id].CompletedAt);
        Assert.Equal((DeliveryStatus.Failed, "gave up"), (byId[failed.Delivery.Id].Status, byId[failed.Delivery.Id].LastError));
        Assert.NotNull(byId[failed.Delivery.Id].CompletedAt);
        Assert.Equal((DeliveryStatus.Cancelled, "rule gone"), (byId[cancelled.Delivery.Id].Status, byId[cancelled.Delivery.Id].LastError));
        Assert.Equal(DeliveryStatus.Pending, byId[claimed[4].Delivery.Id].Status);
    }

    [Fact]
    public async Task A_claim_carries_no_rule_once_the_rule_is_gone_and_claims_the_oldest_due_first()
    {
        await using var open = await CreateAsync();
        var store = open.Store;
        Assert.Empty(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        // An alert of a rule that was never stored (the rule was deleted between firing and recording).
        Assert.True(await store.RecordAsync(Alert("alert-a", "rule-gone", T0)));
        await Task.Delay(20);
        Assert.True(await store.RecordAsync(Alert("alert-b", "rule-gone", T0.AddDays(-1))));
        var first = Assert.Single(await store.ClaimDueDeliveriesAsync(1, TimeSpan.FromMinutes(1)));
        Assert.Equal("alert-a", first.Alert.Id);
        Assert.Null(first.Rule);
        Assert.Equal("alert-b", Assert.Single(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1))).Alert.Id);
    }

    [Fact]
    public async Task An_expired_lease_is_claimed_again_and_the_late_dispatcher_settles_nothing()
    {
        await using var open = await CreateAsync();
        var store = open.Store;
        var rule = (await store.CreateRuleAsync(Rule()))!;
        Assert.True(await store.RecordAsync(Alert("alert-1", rule.Id, T0)));
        var first = Assert.Single(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromSeconds(1.5)));
        Assert.Empty(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        await Task.Delay(1700);
        var second = Assert.Single(await open.OpenAnother().ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        Assert.Equal(first.Delivery.Id, second.Delivery.Id);
        Assert.False(await store.MarkFailedAsync(first.Delivery.Id, first.Lease, DeliveryStatus.Failed, "late"));
        Assert.False(await store.ScheduleRetryAsync(first.Delivery.Id, first.Lease, TimeSpan.Zero, "late"));
        Assert.True(await store.MarkFailedAsync(second.Delivery.Id, second.Lease, DeliveryStatus.Failed, "gave up"));
        Assert.Equal(DeliveryStatus.Failed, (await store.FindAlertAsync("alert-1"))!.Delivery.Status);
    }
}

public sealed class SqliteAlertStoreTests : AlertStoreContract
{
    protected override Task<OpenStore<IAlertStore>> CreateAsync() =>
        ProviderDatabases.SqliteAsync<IAlertStore>(database => new SqliteAlertStore(database));
}

public sealed class PostgresAlertStoreTests(PostgresStorageFixture fixture) : AlertStoreContract, IClassFixture<PostgresStorageFixture>
{
    protected override Task<OpenStore<IAlertStore>> CreateAsync() =>
        ProviderDatabases.PostgresAsync<IAlertStore>(fixture.Server, database => new PostgresAlertStore(database));

    [Fact]
    public async Task Dispatchers_claiming_at_the_same_moment_get_disjoint_deliveries()
    {
        await using var open = await CreateAsync();
        var rule = (await open.Store.CreateRuleAsync(new AlertRule("", "acme", "score", 50, TimeSpan.FromMinutes(10), new Uri("http://127.0.0.1:9/hook"), "s", DateTimeOffset.UnixEpoch)))!;
        for (var i = 0; i < 40; i++)
        {
            Assert.True(await open.Store.RecordAsync(new AlertRecord($"alert-{i}", rule.Id, "acme", "score", "acme", null, 61.5, 50, DateTimeOffset.UnixEpoch.AddMinutes(i), "{}")));
        }

        // Four stores on their own data sources stand for four silos claiming at once (FOR UPDATE SKIP LOCKED).
        var silos = Enumerable.Range(0, 4).Select(_ => open.OpenAnother()).ToList();
        var claims = await Task.WhenAll(silos.Select(s => s.ClaimDueDeliveriesAsync(15, TimeSpan.FromMinutes(1))));
        var claimed = claims.SelectMany(c => c).ToList();
        Assert.Equal(40, claimed.Count);
        Assert.Equal(40, claimed.Select(c => c.Delivery.Id).Distinct().Count());
    }
}
