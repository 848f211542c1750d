using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ImpactGrains.Alerting;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Tests;

/// <summary>The alert-rule API against the real server process.</summary>
[Collection(ServerCollection.Name)]
public sealed class AlertsTests(ServerFixture fixture)
{
    // Nothing listens on the discard port: these rules never get an alert delivered in these tests.
    private const string Hook = "http://127.0.0.1:9/hook";

    private HttpClient Api => fixture.Http;

    private static string Rule(string target = "alerts-acme", string metric = "score", string threshold = "60", string coolDown = "\"PT10M\"",
        string webhook = $"\"{Hook}\"", string secret = "\"s3cret-value\"") =>
        $$"""{"target":"{{target}}","metric":"{{metric}}","threshold":{{threshold}},"coolDown":{{coolDown}},"webhook":{{webhook}},"secret":{{secret}}}""";

    [Fact]
    public async Task Rules_are_created_listed_fetched_and_deleted_without_their_secret()
    {
        await Api.RegisterAsync("alerts-acme");
        var created = await Api.PostJsonAsync("/api/alert-rules", Rule(threshold: "62.5"));
        var rule = await created.JsonAsync(HttpStatusCode.Created);
        var id = rule.GetProperty("id").GetString()!;
        Assert.Equal($"/api/alert-rules/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal(("alerts-acme", "score", 62.5, "PT10M", Hook),
            (rule.GetProperty("target").GetString(), rule.GetProperty("metric").GetString(), rule.GetProperty("threshold").GetDouble(),
                rule.GetProperty("coolDown").GetString(), rule.GetProperty("webhook").GetString()));
        Assert.True(rule.TryGetProperty("createdAt", out _));
        Assert.False(rule.TryGetProperty("secret", out _));
        Assert.DoesNotContain("s3cret-value", await created.Content.ReadAsStringAsync());

        var fetched = await Api.GetJsonAsync($"/api/alert-rules/{id}");
        Assert.Equal(rule.ToString(), fetched.ToString());
        var listed = await Api.GetAsync("/api/alert-rules");
        Assert.DoesNotContain("s3cret-value", await listed.Content.ReadAsStringAsync());
        Assert.Contains((await listed.JsonAsync()).EnumerateArray(), r => r.GetProperty("id").GetString() == id);

        Assert.Equal(HttpStatusCode.NoContent, (await Api.DeleteAsync($"/api/alert-rules/{id}")).StatusCode);
        Assert.Contains("no alert rule", await (await Api.GetAsync($"/api/alert-rules/{id}")).ProblemAsync(HttpStatusCode.NotFound));
        await (await Api.DeleteAsync($"/api/alert-rules/{id}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain((await Api.GetJsonAsync("/api/alert-rules")).EnumerateArray(), r => r.GetProperty("id").GetString() == id);
    }

    [Theory]
    [InlineData("*", "trend24h", "-20")]
    [InlineData("group:musk-companies", "spike", "3")]
    [InlineData("*", "reputational", "0")]
    public async Task Wildcard_and_group_targets_are_accepted(string target, string metric, string threshold)
    {
        var rule = await (await Api.PostJsonAsync("/api/alert-rules", Rule(target, metric, threshold, "\"P1DT12H\""))).JsonAsync(HttpStatusCode.Created);
        Assert.Equal((target, metric, "P1DT12H"), (rule.GetProperty("target").GetString(), rule.GetProperty("metric").GetString(), rule.GetProperty("coolDown").GetString()));
        Assert.Equal(HttpStatusCode.NoContent, (await Api.DeleteAsync($"/api/alert-rules/{rule.GetProperty("id").GetString()}")).StatusCode);
    }

    [Fact]
    public async Task An_unknown_entity_target_is_a_404_problem()
    {
        var detail = await (await Api.PostJsonAsync("/api/alert-rules", Rule(target: "alerts-nobody"))).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("no entity 'alerts-nobody'", detail);
    }

    public static TheoryData<string, string> BadRules => new()
    {
        { """{"metric":"score","threshold":60,"coolDown":"PT10M","webhook":"http://127.0.0.1:9/","secret":"s3cret-value"}""", "target:" },
        { Rule(target: "Bad_Id"), "target:" },
        { Rule(target: "group:Bad_Id"), "target:" },
        { Rule(target: "group:"), "target:" },
        { Rule(target: "**"), "target:" },
        { Rule().Replace("\"target\":\"alerts-acme\"", "\"target\":42"), "target:" },
        { Rule(metric: "volume"), "metric:" },
        { Rule().Replace("\"metric\":\"score\",", ""), "metric:" },
        { Rule(threshold: "\"high\""), "threshold:" },
        { Rule(threshold: "null"), "threshold:" },
        { Rule(threshold: "100.5"), "threshold:" },
        { Rule(threshold: "-1"), "threshold:" },
        { Rule(metric: "trend24h", threshold: "-101"), "threshold:" },
        { Rule(metric: "spike", threshold: "-2"), "threshold:" },
        { Rule(coolDown: "null"), "coolDown:" },
        { Rule(coolDown: "\"\""), "coolDown:" },
        { Rule(coolDown: "\"10 minutes\""), "coolDown:" },
        { Rule(coolDown: "\"P1M\""), "coolDown:" },
        { Rule(coolDown: "\"PT0S\""), "coolDown:" },
        { Rule(coolDown: "600"), "coolDown:" },
        { Rule(webhook: "null"), "webhook:" },
        { Rule(webhook: "\"not a url\""), "webhook:" },
        { Rule(webhook: "\"/relative/hook\""), "webhook:" },
        { Rule(webhook: "\"ftp://127.0.0.1/hook\""), "webhook:" },
        { Rule(webhook: "\"file:///etc/passwd\""), "webhook:" },
        { Rule(webhook: $"\"http://127.0.0.1/{new string('a', 2000)}\""), "webhook:" },
        { Rule(secret: "null"), "secret:" },
        { Rule(secret: "\"short\""), "secret:" },
        { Rule(secret: $"\"{new string('s', 201)}\""), "secret:" },
        { Rule(secret: "\"tab\\tinside-secret\""), "secret:" },
        { Rule(secret: "12345678"), "secret:" },
        { """{"target":"alerts-acme",""", "not valid JSON" },
        { """["alerts-acme"]""", "JSON object" },
    };

    [Theory]
    [MemberData(nameof(BadRules))]
    public async Task A_bad_rule_is_a_400_problem_naming_the_field(string body, string expected)
    {
        await Api.RegisterAsync("alerts-acme");
        var detail = await (await Api.PostJsonAsync("/api/alert-rules", body)).ProblemAsync(HttpStatusCode.BadRequest);
        if (expected.EndsWith(':'))
        {
            Assert.StartsWith(expected, detail);
        }
        else
        {
            Assert.Contains(expected, detail);
        }
    }

    [Fact]
    public async Task A_rule_that_is_not_json_is_a_415_problem()
    {
        var response = await Api.PostAsync("/api/alert-rules", new StringContent("target=*", Encoding.UTF8, "text/plain"));
        await response.ProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("/api/alerts?limit=0", "limit:")]
    [InlineData("/api/alerts?limit=abc", "limit:")]
    [InlineData("/api/alerts?limit=1001", "limit:")]
    [InlineData("/api/alerts?before=yesterday", "before:")]
    public async Task Bad_alert_queries_are_400_problems(string url, string expected)
    {
        Assert.StartsWith(expected, await (await Api.GetAsync(url)).ProblemAsync(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Alerts_are_listed_and_an_unknown_alert_has_no_delivery_log()
    {
        var page = await Api.GetJsonAsync("/api/alerts?limit=5&before=2030-01-01T00:00:00Z");
        Assert.Equal(JsonValueKind.Array, page.GetProperty("alerts").ValueKind);
        Assert.Contains("no alert 'alert-none'", await (await Api.GetAsync("/api/alerts/alert-none/deliveries")).ProblemAsync(HttpStatusCode.NotFound));
    }
}

/// <summary>
/// Webhook delivery in-process: the real <see cref="AlertEvaluator"/>, <see cref="WebhookDispatcher"/> (with the
/// production HttpClient and resilience pipeline) and <see cref="SqliteAlertStore"/> on files in a temporary
/// directory, against a real HTTP receiver on 127.0.0.1 that checks every signature.
/// </summary>
public sealed class AlertDeliveryTests : IAsyncLifetime
{
    private const string Secret = "receiver-shared-secret";
    private static readonly DateTimeOffset T0 = new(2025, 3, 10, 14, 0, 0, TimeSpan.Zero);

    private readonly string directory = Path.Combine(Path.GetTempPath(), "impactgrains-alert-tests", Guid.NewGuid().ToString("N"));
    private readonly Receiver receiver = new(Secret);

    public Task InitializeAsync() => receiver.StartAsync();

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // a pooled SQLite connection may still hold a file; the directory is under the temp path
        }
    }

    private static AlertOptions Fast(int retries = 3, int maxAttempts = 40, int redeliveryMs = 300) => new()
    {
        Retries = retries,
        RetryDelay = TimeSpan.FromMilliseconds(20),
        AttemptTimeout = TimeSpan.FromSeconds(5),
        TotalTimeout = TimeSpan.FromSeconds(20),
        RedeliveryDelay = TimeSpan.FromMilliseconds(redeliveryMs),
        MaxRedeliveryDelay = TimeSpan.FromSeconds(5),
        MaxAttempts = maxAttempts,
        RuleRefresh = TimeSpan.FromMinutes(5),
        AllowedWebhookHosts = ["127.0.0.1/32"], // the receiver listens on loopback
    };

    private static AlertSignal Signal(string entity, DateTimeOffset at, double score, double operational = 0, IReadOnlyList<string>? groups = null,
        SpikeInfo? spike = null) =>
        new(entity, "company", at, score,
            new Dictionary<string, double> { ["operational"] = operational, ["market"] = 0, ["financial"] = 0, ["reputational"] = 0 },
            score / 2, groups ?? [], spike);

    private async Task<AlertRule> RuleAsync(AlertNode node, string target, string metric, double threshold, TimeSpan coolDown, string path = "/hook") =>
        (await node.Store.CreateRuleAsync(new AlertRule("", target, metric, threshold, coolDown, receiver.Url(path), Secret, DateTimeOffset.UtcNow)))!;

    [Fact]
    public async Task Score_changes_are_wanted_unless_the_rules_are_fresh_and_none()
    {
        var options = Fast();
        options.RuleRefresh = TimeSpan.FromMilliseconds(300);
        using var node = new AlertNode(directory, options);
        Assert.True(node.Evaluator.MayHaveRules); // not loaded yet

        Assert.False(await node.Evaluator.NeedsTrendAsync(default)); // loads them: none
        Assert.False(node.Evaluator.MayHaveRules);

        await Task.Delay(options.RuleRefresh + TimeSpan.FromMilliseconds(100));
        Assert.True(node.Evaluator.MayHaveRules); // due for a reload: a rule may have been added on another node
        await node.Evaluator.NeedsTrendAsync(default);
        Assert.False(node.Evaluator.MayHaveRules);

        await RuleAsync(node, "acme", "score", 50, TimeSpan.FromMinutes(10));
        node.Evaluator.RulesChanged(); // added through this node's API
        Assert.True(node.Evaluator.MayHaveRules);
        await node.Evaluator.NeedsTrendAsync(default);
        Assert.True(node.Evaluator.MayHaveRules); // loaded, and there is one
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_gets_the_alert_once_and_the_log_shows_every_attempt()
    {
        receiver.Script("/hook", HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError);
        using var node = new AlertNode(directory, Fast());
        var rule = await RuleAsync(node, "acme", "score", 50, TimeSpan.FromMinutes(10));
        node.Evaluator.RulesChanged();

        await node.Evaluator.EvaluateAsync([Signal("acme", T0, 70)], default);
        await node.Evaluator.EvaluateAsync([Signal("acme", T0, 70)], default); // the same signal again: the same alert
        await node.Evaluator.EvaluateAsync([Signal("acme", T0.AddMinutes(5), 80)], default); // inside the cool-down
        await node.Evaluator.EvaluateAsync([Signal("acme", T0.AddMinutes(6), 40)], default); // below the threshold
        var alerts = await node.Store.ListAlertsAsync(10);
        var alert = Assert.Single(alerts).Alert;
        Assert.Equal((rule.Id, "acme", "acme", (string?)null, 70.0, 50.0, T0), (alert.RuleId, alert.Target, alert.Entity, alert.Group, alert.Value, alert.Threshold, alert.At));
        Assert.Equal(AlertEvaluator.AlertId(rule.Id, "acme", T0), alert.Id);
        Assert.Equal(DeliveryStatus.Pending, alerts[0].Delivery.Status);

        Assert.Equal(1, await node.Dispatcher.DispatchDueAsync(default));

        var requests = receiver.Requests("/hook");
        Assert.Equal([500, 500, 200], requests.Select(r => r.Answer));
        Assert.All(requests, r => Assert.True(r.SignatureValid, "the HMAC-SHA256 signature must match the body"));
        Assert.Single(requests.Select(r => r.Delivery).Distinct());
        Assert.Equal(alerts[0].Delivery.Id, requests[0].Delivery);
        var body = JsonDocument.Parse(requests[^1].Body).RootElement;
        Assert.Equal(alert.Id, body.GetProperty("alert").GetProperty("id").GetString());
        Assert.Equal(70, body.GetProperty("alert").GetProperty("details").GetProperty("score").GetDouble());
        Assert.Equal(requests[^1].Delivery, body.GetProperty("delivery").GetString());

        var stored = (await node.Store.FindAlertAsync(alert.Id))!;
        Assert.Equal((DeliveryStatus.Delivered, 3), (stored.Delivery.Status, stored.Delivery.Attempts));
        Assert.NotNull(stored.Delivery.CompletedAt);
        var log = await node.Store.ListAttemptsAsync(stored.Delivery.Id);
        Assert.Equal([(1, false, (int?)500), (2, false, 500), (3, true, 200)], log.Select(a => (a.Number, a.Succeeded, a.StatusCode)));
        Assert.Contains("500", log[0].Error);
        Assert.Null(log[2].Error);

        // Delivered once: nothing is due any more.
        Assert.Equal(0, await node.Dispatcher.DispatchDueAsync(default));
        Assert.Single(receiver.Requests("/hook"), r => r.Answer == 200);

        // Once the cool-down has passed, the rule fires again.
        await node.Evaluator.EvaluateAsync([Signal("acme", T0.AddMinutes(10), 75)], default);
        Assert.Equal(2, (await node.Store.ListAlertsAsync(10)).Count);
    }

    [Fact]
    public async Task A_delivery_whose_retries_all_fail_stays_pending_and_survives_a_restart()
    {
        receiver.Script("/down", Enumerable.Repeat(HttpStatusCode.ServiceUnavailable, 4).ToArray());
        string alertId;
        using (var node = new AlertNode(directory, Fast(retries: 1, redeliveryMs: 3000)))
        {
            await RuleAsync(node, "acme", "operational", 30, TimeSpan.FromHours(1), "/down");
            await node.Evaluator.EvaluateAsync([Signal("acme", T0, 10, operational: 31)], default);
            Assert.Equal(1, await node.Dispatcher.DispatchDueAsync(default));
            var alert = Assert.Single(await node.Store.ListAlertsAsync(10));
            alertId = alert.Alert.Id;
            Assert.Equal((DeliveryStatus.Pending, 2), (alert.Delivery.Status, alert.Delivery.Attempts));
            Assert.True(alert.Delivery.NextAttemptAt > DateTimeOffset.UtcNow, "the next dispatch waits for the redelivery delay");
            Assert.StartsWith("HTTP 503", alert.Delivery.LastError);
            Assert.Equal(0, await node.Dispatcher.DispatchDueAsync(default));
        }

        // A new process on the same files: the delivery is still pending, and so is the cool-down.
        using (var node = new AlertNode(directory, Fast(retries: 1)))
        {
            await node.Evaluator.EvaluateAsync([Signal("acme", T0.AddMinutes(30), 10, operational: 90)], default);
            Assert.Single(await node.Store.ListAlertsAsync(10));

            var claimed = 0;
            for (var i = 0; i < 100 && claimed == 0; i++)
            {
                await Task.Delay(100);
                claimed = await node.Dispatcher.DispatchDueAsync(default);
            }

            // Two more 503s (the second dispatch), then the third dispatch succeeds.
            for (var i = 0; i < 100 && (await node.Store.FindAlertAsync(alertId))!.Delivery.Status == DeliveryStatus.Pending; i++)
            {
                await Task.Delay(100);
                await node.Dispatcher.DispatchDueAsync(default);
            }

            var delivered = (await node.Store.FindAlertAsync(alertId))!;
            Assert.Equal((DeliveryStatus.Delivered, 5), (delivered.Delivery.Status, delivered.Delivery.Attempts));
            Assert.Equal([false, false, false, false, true], (await node.Store.ListAttemptsAsync(delivered.Delivery.Id)).Select(a => a.Succeeded));
            Assert.Equal([503, 503, 503, 503, 200], receiver.Requests("/down").Select(r => r.Answer));
            Assert.All(receiver.Requests("/down"), r => Assert.True(r.SignatureValid));
        }
    }

    [Fact]
    public async Task A_delivery_is_given_up_after_the_last_attempt()
    {
        receiver.Script("/broken", Enumerable.Repeat(HttpStatusCode.InternalServerError, 10).ToArray());
        using var node = new AlertNode(directory, Fast(retries: 1, maxAttempts: 2));
        await RuleAsync(node, "acme", "score", 50, TimeSpan.FromMinutes(1), "/broken");
        await node.Evaluator.EvaluateAsync([Signal("acme", T0, 99)], default);
        Assert.Equal(1, await node.Dispatcher.DispatchDueAsync(default));
        var alert = Assert.Single(await node.Store.ListAlertsAsync(10));
        Assert.Equal((DeliveryStatus.Failed, 2), (alert.Delivery.Status, alert.Delivery.Attempts));
        Assert.Contains("gave up after 2 attempts", alert.Delivery.LastError);
        Assert.Null(alert.Delivery.NextAttemptAt);
        Assert.Equal(2, receiver.Requests("/broken").Count);
    }

    [Fact]
    public async Task A_claim_abandoned_by_a_dead_dispatcher_is_claimed_again_after_its_lease()
    {
        using var node = new AlertNode(directory, Fast());
        await RuleAsync(node, "acme", "score", 50, TimeSpan.FromMinutes(1));
        await node.Evaluator.EvaluateAsync([Signal("acme", T0, 99)], default);
        var first = Assert.Single(await node.Store.ClaimDueDeliveriesAsync(10, TimeSpan.FromSeconds(1.5)));
        Assert.Empty(await node.Store.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));

        await Task.Delay(1700);
        var again = new SqliteAlertStore(new SqliteDatabase(directory));
        var second = Assert.Single(await again.ClaimDueDeliveriesAsync(10, TimeSpan.FromMinutes(1)));
        Assert.Equal(first.Delivery.Id, second.Delivery.Id);
        Assert.NotEqual(first.Lease, second.Lease);
        Assert.False(await node.Store.ScheduleRetryAsync(first.Delivery.Id, first.Lease, TimeSpan.Zero, "late"), "a lost lease settles nothing");
        Assert.True(await again.ScheduleRetryAsync(second.Delivery.Id, second.Lease, TimeSpan.Zero, "released"));
    }

    [Fact]
    public async Task Deleting_a_rule_cancels_its_pending_deliveries()
    {
        using var node = new AlertNode(directory, Fast());
        var rule = await RuleAsync(node, "acme", "score", 50, TimeSpan.FromMinutes(1));
        await node.Evaluator.EvaluateAsync([Signal("acme", T0, 99)], default);
        Assert.True(await node.Store.DeleteRuleAsync(rule.Id));
        Assert.False(await node.Store.DeleteRuleAsync(rule.Id));
        var alert = Assert.Single(await node.Store.ListAlertsAsync(10));
        Assert.Equal(DeliveryStatus.Cancelled, alert.Delivery.Status);
        Assert.Equal(0, await node.Dispatcher.DispatchDueAsync(default));
        Assert.Empty(receiver.Requests("/hook"));
    }

    [Fact]
    public async Task Wildcard_group_and_spike_rules_match_and_cool_down_per_target()
    {
        using var node = new AlertNode(directory, Fast());
        var any = await RuleAsync(node, "*", "operational", 30, TimeSpan.FromMinutes(10));
        var group = await RuleAsync(node, "group:musk-companies", "score", 50, TimeSpan.FromMinutes(10));
        var spike = await RuleAsync(node, "tesla", "spike", 3, TimeSpan.FromMinutes(10));

        var burst = new SpikeInfo("US", 5000, 400, 150, 30.7);
        await node.Evaluator.EvaluateAsync(
        [
            Signal("tesla", T0, 60, operational: 35, groups: ["musk-companies"], spike: burst),
            Signal("spacex", T0, 70, operational: 10, groups: ["musk-companies"]),
            Signal("acme", T0, 10, operational: 45),
            Signal("tesla", T0.AddMinutes(1), 65, operational: 40, groups: ["musk-companies"], spike: burst with { ZScore = 2 }),
        ], default);

        var alerts = (await node.Store.ListAlertsAsync(10)).Select(a => a.Alert).ToList();
        (string, string)[] expected = [(any.Id, "acme"), (any.Id, "tesla"), (group.Id, "group:musk-companies"), (spike.Id, "tesla")];
        Assert.Equal(expected.Order(), alerts.Select(a => (a.RuleId, a.Target)).Order());
        var groupAlert = alerts.Single(a => a.RuleId == group.Id);
        Assert.Equal(("tesla", "musk-companies", 60.0), (groupAlert.Entity, groupAlert.Group, groupAlert.Value));
        var spikeAlert = alerts.Single(a => a.RuleId == spike.Id);
        Assert.Equal(30.7, spikeAlert.Value);
        Assert.Equal(5000, JsonDocument.Parse(spikeAlert.Details).RootElement.GetProperty("spike").GetProperty("reports").GetInt64());
        Assert.Equal(T0, await node.Store.LastFiredAsync(group.Id, "group:musk-companies"));
        Assert.Null(await node.Store.LastFiredAsync(group.Id, "spacex"));
    }

    [Fact]
    public async Task Concurrent_evaluations_of_the_same_signals_record_each_alert_once()
    {
        using var node = new AlertNode(directory, Fast());
        await RuleAsync(node, "*", "score", 50, TimeSpan.FromMinutes(10));
        var signals = Enumerable.Range(0, 20).Select(i => Signal($"e{i}", T0.AddSeconds(i), 60 + i)).ToList();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => node.Evaluator.EvaluateAsync(signals, default))));
        var alerts = await node.Store.ListAlertsAsync(100);
        Assert.Equal(20, alerts.Count);
        Assert.Equal(signals.Select(s => s.Entity).Order(), alerts.Select(a => a.Alert.Target).Order());
        Assert.Equal(T0.AddSeconds(19), alerts[0].Alert.At); // newest first
        Assert.Equal([T0.AddSeconds(9), T0.AddSeconds(8)], (await node.Store.ListAlertsAsync(2, T0.AddSeconds(10))).Select(a => a.Alert.At));
    }

    /// <summary>A webhook receiver on 127.0.0.1 that verifies signatures with its own HMAC code and answers from a script per path.</summary>
    internal sealed class Receiver(string secret) : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<string, ConcurrentQueue<HttpStatusCode>> scripts = new();
        private readonly ConcurrentQueue<(string Path, Received Request)> received = new();
        private WebApplication? app;

        public sealed record Received(string Delivery, string Body, bool SignatureValid, int Answer);

        public void Script(string path, params HttpStatusCode[] answers) => scripts[path] = new ConcurrentQueue<HttpStatusCode>(answers);

        public List<Received> Requests(string path) => received.Where(r => r.Path == path).Select(r => r.Request).ToList();

        public Uri Url(string path) => new(new Uri(app!.Urls.First()), path);

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            app = builder.Build();
            app.MapPost("/{path}", async (HttpContext context, string path) =>
            {
                using var buffer = new MemoryStream();
                await context.Request.Body.CopyToAsync(buffer);
                var body = buffer.ToArray();
                var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
                var signature = context.Request.Headers["X-ImpactGrains-Signature"].ToString();
                var delivery = context.Request.Headers["X-ImpactGrains-Delivery"].ToString();
                var timestamp = context.Request.Headers["X-ImpactGrains-Timestamp"].ToString();
                using var json = JsonDocument.Parse(body);
                var valid = CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)) &&
                            json.RootElement.GetProperty("delivery").GetString() == delivery &&
                            json.RootElement.GetProperty("timestamp").GetInt64().ToString() == timestamp &&
                            context.Request.ContentType == "application/json; charset=utf-8";
                var answer = scripts.TryGetValue("/" + path, out var script) && script.TryDequeue(out var scripted) ? scripted : HttpStatusCode.OK;
                received.Enqueue(("/" + path, new Received(delivery, Encoding.UTF8.GetString(body), valid, (int)answer)));
                return Results.StatusCode((int)answer);
            });
            await app.StartAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }
}
