using ImpactGrains.Alerting;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Postgres;

namespace ImpactGrains.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresAlertStoreTests(PostgresFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 10, 14, 0, 0, TimeSpan.Zero);

    private async Task<PostgresDatabase> MigratedAsync()
    {
        var database = new PostgresDatabase(await fixture.Server.CreateDatabaseAsync());
        await database.MigrateAsync();
        return database;
    }

    private static AlertRule Rule(string id = "", string target = "acme") =>
        new(id, target, "score", 50, TimeSpan.FromMinutes(10), new Uri("http://127.0.0.1:9/hook"), "s3cret-value", T0.AddTicks(1234567));

    private static AlertRecord Alert(string id, string ruleId, DateTimeOffset at, string target = "acme") =>
        new(id, ruleId, target, "score", "acme", null, 61.5, 50, at.AddTicks(7), """{"score":61.5}""");

    [Fact]
    public async Task Rules_are_created_found_listed_and_deleted()
    {
        await using var database = await MigratedAsync();
        var store = new PostgresAlertStore(database);
        var generated = (await store.CreateRuleAsync(Rule()))!;
        Assert.StartsWith("rule-", generated.Id);
        var given = (await store.CreateRuleAsync(Rule("rule-given", "group:musk-companies")))!;
        Assert.Null(await store.CreateRuleAsync(Rule("rule-given")));

        Assert.Equal(given, await store.FindRuleAsync("rule-given"));
        Assert.Equal(Rule("rule-given", "group:musk-companies"), given);
        Assert.Equal([generated.Id, "rule-given"], (await store.ListRulesAsync()).Select(r => r.Id).Order(StringComparer.Ordinal));

        // Pages continue after the last rule's place (creation, id), as the SQLite store's do.
        var all = await store.ListRulesAsync();
        var first = Assert.Single(await store.ListRulesAsync(limit: 1));
        Assert.Equal(all[0], first);
        var rest = await store.ListRulesAsync(new RulePosition(first.CreatedAt.UtcTicks, first.Id), limit: 10);
        Assert.Equal(all.Skip(1), rest);
        Assert.True(await store.DeleteRuleAsync("rule-given"));
        Assert.False(await store.DeleteRuleAsync("rule-given"));
        Assert.Null(await store.FindRuleAsync("rule-given"));
    }

    [Fact]
    public async Task Recording_is_idempotent_writes_the_outbox_and_keeps_the_cool_down()
    {
        await using var database = await MigratedAsync();
        var store = new PostgresAlertStore(database);
        var rule = (await store.CreateRuleAsync(Rule()))!;
        Assert.True(await store.RecordAsync(Alert("alert-1", rule.Id, T0)));
        Assert.False(await store.RecordAsync(Alert("alert-1", rule.Id, T0)));
        Assert.True(await store.RecordAsync(Alert("alert-2", rule.Id, T0.AddMinutes(20))));
        Assert.True(await store.RecordAsync(Alert("alert-3", rule.Id, T0.AddMinutes(5), "group:g") with { Group = "g" }));

        var alerts = await store.ListAlertsAsync(10);
        Assert.Equal(["alert-2", "alert-3", "alert-1"], alerts.Select(a => a.Alert.Id));
        Assert.Equal(Alert("alert-1", rule.Id, T0), alerts[2].Alert);
        Assert.All(alerts, a => Assert.Equal((DeliveryStatus.Pending, 0), (a.Delivery.Status, a.Delivery.Attempts)));
        Assert.Equal(["alert-3", "alert-1"], (await store.ListAlertsAsync(10, T0.AddMinutes(20).AddTicks(7))).Select(a => a.Alert.Id));
        Assert.Equal(["alert-2"], (await store.ListAlertsAsync(1)).Select(a => a.Alert.Id));

        Assert.Equal(T0.AddMinutes(20).AddTicks(7), await store.LastFiredAsync(rule.Id, "acme"));
        Assert.Equal(T0.AddMinutes(5).AddTicks(7), await store.LastFiredAsync(rule.Id, "group:g"));
        Assert.Null(await store.LastFiredAsync(rule.Id, "other"));

        // Deleting the rule keeps its alerts and cancels what was still to be delivered.
        Assert.True(await store.DeleteRuleAsync(rule.Id));
        Assert.All(await store.ListAlertsAsync(10), a => Assert.Equal(DeliveryStatus.Cancelled, a.Delivery.Status));
        Assert.Empty(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task Dispatchers_in_different_processes_claim_disjoint_deliveries_and_settle_them()
    {
        await using var database = await MigratedAsync();
        var store = new PostgresAlertStore(database);
        var rule = (await store.CreateRuleAsync(Rule()))!;
        for (var i = 0; i < 40; i++)
        {
            Assert.True(await store.RecordAsync(Alert($"alert-{i}", rule.Id, T0.AddMinutes(i))));
        }

        // Four stores on their own data sources stand for four silos claiming at once.
        var silos = Enumerable.Range(0, 4).Select(_ => new PostgresDatabase(database.ConnectionString)).ToList();
        var claims = await Task.WhenAll(silos.Select(s => new PostgresAlertStore(s).ClaimDueDeliveriesAsync(15, TimeSpan.FromMinutes(1))));
        var claimed = claims.SelectMany(c => c).ToList();
        Assert.Equal(40, claimed.Count);
        Assert.Equal(40, claimed.Select(c => c.Delivery.Id).Distinct().Count());
        Assert.All(claimed, c => Assert.Equal(rule, c.Rule));
        Assert.Empty(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        foreach (var silo in silos)
        {
            await silo.DisposeAsync();
        }

        var delivered = claimed[0];
        Assert.Equal(1, await store.RecordAttemptAsync(delivered.Delivery.Id, DateTimeOffset.UtcNow, false, 500, "HTTP 500", TimeSpan.FromMilliseconds(12)));
        Assert.Equal(2, await store.RecordAttemptAsync(delivered.Delivery.Id, DateTimeOffset.UtcNow, true, 200, null, TimeSpan.FromMilliseconds(3)));
        Assert.True(await store.MarkDeliveredAsync(delivered.Delivery.Id));
        Assert.False(await store.MarkDeliveredAsync(delivered.Delivery.Id));
        var log = await store.ListAttemptsAsync(delivered.Delivery.Id);
        Assert.Equal([(1, false, (int?)500, "HTTP 500"), (2, true, 200, null)], log.Select(a => (a.Number, a.Succeeded, a.StatusCode, a.Error)));
        Assert.Equal(TimeSpan.FromMilliseconds(12), log[0].Duration);

        var retried = claimed[1];
        Assert.False(await store.ScheduleRetryAsync(retried.Delivery.Id, "lease-not-mine", TimeSpan.Zero, "x"));
        Assert.True(await store.ScheduleRetryAsync(retried.Delivery.Id, retried.Lease, TimeSpan.FromHours(1), "HTTP 503"));
        var failed = claimed[2];
        Assert.True(await store.MarkFailedAsync(failed.Delivery.Id, failed.Lease, DeliveryStatus.Failed, "gave up"));
        var soon = claimed[3];
        Assert.True(await store.ScheduleRetryAsync(soon.Delivery.Id, soon.Lease, TimeSpan.Zero, "interrupted"));

        // Only the one released at once is due again; the others keep their leases or their later due time.
        var again = Assert.Single(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        Assert.Equal(soon.Delivery.Id, again.Delivery.Id);
        Assert.Equal("interrupted", again.Delivery.LastError);

        var byId = (await store.ListAlertsAsync(100)).ToDictionary(a => a.Delivery.Id, a => a.Delivery);
        Assert.Equal((DeliveryStatus.Delivered, 2), (byId[delivered.Delivery.Id].Status, byId[delivered.Delivery.Id].Attempts));
        Assert.NotNull(byId[delivered.Delivery.Id].CompletedAt);
        Assert.Equal(DeliveryStatus.Pending, byId[retried.Delivery.Id].Status);
        Assert.True(byId[retried.Delivery.Id].NextAttemptAt > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.Equal(("HTTP 503", DeliveryStatus.Failed, "gave up"),
            (byId[retried.Delivery.Id].LastError, byId[failed.Delivery.Id].Status, byId[failed.Delivery.Id].LastError));
    }

    [Fact]
    public async Task An_expired_lease_is_claimed_again_and_the_late_dispatcher_settles_nothing()
    {
        await using var database = await MigratedAsync();
        var store = new PostgresAlertStore(database);
        var rule = (await store.CreateRuleAsync(Rule()))!;
        Assert.True(await store.RecordAsync(Alert("alert-1", rule.Id, T0)));
        var first = Assert.Single(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromSeconds(1.5)));
        Assert.Empty(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        await Task.Delay(1700);
        var second = Assert.Single(await store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        Assert.Equal(first.Delivery.Id, second.Delivery.Id);
        Assert.False(await store.MarkFailedAsync(first.Delivery.Id, first.Lease, DeliveryStatus.Failed, "late"));
        Assert.True(await store.MarkFailedAsync(second.Delivery.Id, second.Lease, DeliveryStatus.Failed, "gave up"));
    }
}
