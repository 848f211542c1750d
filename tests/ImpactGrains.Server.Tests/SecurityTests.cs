using System.Net;
using System.Text.Json;
using ImpactGrains.Alerting;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Security;
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

/// <summary>Security headers on every kind of response of the real server.</summary>
[Collection(ServerCollection.Name)]
public sealed class SecurityHeadersTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    private static void AssertCommonHeaders(HttpResponseMessage response)
    {
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Cross-Origin-Opener-Policy").Single());
    }

    private static string Csp(HttpResponseMessage response) => response.Headers.GetValues("Content-Security-Policy").Single();

    [Theory]
    [InlineData("GET", "/api/entities", 200)]
    [InlineData("GET", "/api/entities/sec-nobody", 404)]
    [InlineData("GET", "/api/leaderboard?limit=0", 400)]
    [InlineData("DELETE", "/api/entities/sec-nobody", 405)]
    [InlineData("GET", "/api/no-such-route", 404)]
    [InlineData("GET", "/openapi/v1.json", 200)]
    [InlineData("GET", "/health/live", 200)]
    [InlineData("GET", "/metrics", 200)]
    public async Task Api_answers_and_refusals_carry_the_headers_and_a_policy_that_loads_nothing(string method, string url, int status)
    {
        using var response = await Api.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));
        Assert.Equal(status, (int)response.StatusCode);
        AssertCommonHeaders(response);
        Assert.Equal(SecurityHeaders.ApiContentSecurityPolicy, Csp(response));
    }

    [Fact]
    public async Task The_stream_carries_the_headers()
    {
        using var response = await Api.GetAsync("/api/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertCommonHeaders(response);
        Assert.Equal(SecurityHeaders.ApiContentSecurityPolicy, Csp(response));
    }

    [Fact]
    public async Task The_viewer_keeps_its_own_policy()
    {
        using var response = await Api.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertCommonHeaders(response);
        var built = File.Exists(Path.Combine(Path.GetDirectoryName(ServerProcess.ServerAssembly)!, "viewer", "index.html"));
        Assert.Equal(built ? ViewerPages.ContentSecurityPolicy : SecurityHeaders.ApiContentSecurityPolicy, Csp(response));
    }

    [Theory]
    [InlineData("/api/docs/")]
    [InlineData("/dashboard/")]
    public async Task The_reference_and_the_orleans_dashboard_may_not_be_framed_but_run_their_own_scripts(string url)
    {
        using var response = await Api.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertCommonHeaders(response);
        Assert.Equal(SecurityHeaders.PageContentSecurityPolicy, Csp(response));
    }
}

/// <summary>The SSRF policy of webhook URLs at rule creation, through the real server (which allows only 127.0.0.1/32).</summary>
[Collection(ServerCollection.Name)]
public sealed class WebhookSsrfApiTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://127.0.0.2:9/hook")]
    [InlineData("http://0.0.0.0:9/")]
    [InlineData("http://192.168.1.20/")]
    [InlineData("http://172.16.0.1/")]
    [InlineData("http://100.64.0.1/")]
    [InlineData("https://224.0.0.1/")]
    [InlineData("http://[fd00::1]/")]
    [InlineData("http://[fe80::1]/")]
    [InlineData("http://[::ffff:10.0.0.1]/")]
    [InlineData("http://167772161/")] // 10.0.0.1 as one number
    [InlineData("http://0x0a000001/")] // and in hex
    public async Task A_rule_with_an_internal_webhook_is_a_400_naming_the_field_and_is_not_stored(string webhook)
    {
        var response = await fixture.Http.PostJsonAsync("/api/alert-rules",
            $$"""{"target":"*","metric":"score","threshold":90,"coolDown":"PT1H","webhook":"{{webhook}}","secret":"ssrf-test-secret"}""");
        var detail = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.StartsWith("webhook:", detail);
        Assert.Contains("internal address", detail);
        Assert.Contains("AllowedWebhookHosts", detail);
        var rules = await fixture.Http.GetJsonAsync("/api/alert-rules");
        Assert.DoesNotContain(rules.EnumerateArray(), r => r.GetProperty("webhook").GetString() == new Uri(webhook).AbsoluteUri);
    }
}

/// <summary>The policy itself: which addresses are internal, the allow-list forms, the creation-time check.</summary>
public sealed class WebhookAddressPolicyTests
{
    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("1.1.1.1", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("0.1.2.3", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("100.128.0.1", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.255.255.254", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.0.0.8", false)]
    [InlineData("192.168.0.1", false)]
    [InlineData("198.18.0.1", false)]
    [InlineData("224.0.0.251", false)]
    [InlineData("239.255.255.250", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fec0::1", false)]
    [InlineData("fc00::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("::127.0.0.1", false)]
    [InlineData("64:ff9b::a00:1", false)]
    [InlineData("64:ff9b::808:808", true)]
    [InlineData("2002:a00:1::1", false)]
    [InlineData("2002:808:808::1", true)]
    [InlineData("100::1", false)]
    public void Internal_addresses_are_not_public(string address, bool isPublic) =>
        Assert.Equal(isPublic, WebhookAddressPolicy.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void The_allow_list_takes_networks_addresses_and_host_names()
    {
        var policy = new WebhookAddressPolicy(["10.20.0.0/16", "127.0.0.1", "fd00::/8", "hooks.internal", "*.svc.cluster.local"]);
        Assert.True(policy.IsAddressAllowed(IPAddress.Parse("10.20.3.4")));
        Assert.False(policy.IsAddressAllowed(IPAddress.Parse("10.21.3.4")));
        Assert.True(policy.IsAddressAllowed(IPAddress.Parse("127.0.0.1")));
        Assert.True(policy.IsAddressAllowed(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.False(policy.IsAddressAllowed(IPAddress.Parse("127.0.0.2")));
        Assert.True(policy.IsAddressAllowed(IPAddress.Parse("fd00::5")));
        Assert.True(policy.IsAddressAllowed(IPAddress.Parse("93.184.216.34")));
        Assert.True(policy.IsHostAllowed("HOOKS.internal"));
        Assert.True(policy.IsHostAllowed("alerts.monitoring.svc.cluster.local"));
        Assert.False(policy.IsHostAllowed("svc.cluster.local"));
        Assert.False(policy.IsHostAllowed("hooks.internal.example.com"));
    }

    [Theory]
    [InlineData("10.0.0.1/33")]
    [InlineData("10.0.0.0/x")]
    [InlineData("not a host")]
    [InlineData("http://10.0.0.1/")]
    [InlineData("")]
    public void A_bad_allow_list_entry_is_named(string entry)
    {
        Assert.Contains($"'{entry}'", WebhookAddressPolicy.Validate([entry]));
        Assert.Throws<FormatException>(() => new WebhookAddressPolicy([entry]));
    }

    [Fact]
    public async Task A_host_name_that_resolves_to_loopback_is_refused_at_creation_unless_allowed()
    {
        var localhost = new Uri("http://localhost:9/hook");
        Assert.Contains("'localhost' resolves to", await new WebhookAddressPolicy([]).CheckAsync(localhost, default));
        Assert.Null(await new WebhookAddressPolicy(["localhost"]).CheckAsync(localhost, default));
        Assert.Null(await new WebhookAddressPolicy(["127.0.0.0/8", "::1"]).CheckAsync(localhost, default));
        Assert.Contains("internal address", await new WebhookAddressPolicy(["localhost"]).CheckAsync(new Uri("http://127.0.0.1/"), default));
    }

    [Fact]
    public async Task The_server_refuses_to_start_with_a_bad_allow_list()
    {
        var (code, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), "--urls=http://127.0.0.1:0", "--Impact:Demo=false",
            $"--Impact:DataDirectory={Path.Combine(Path.GetTempPath(), "impactgrains-tests", Guid.NewGuid().ToString("N"))}",
            "--Impact:Alerts:AllowedWebhookHosts:0=10.0.0.0/40");
        Assert.Equal(2, code);
        Assert.Contains("AllowedWebhookHosts: '10.0.0.0/40'", output);
    }
}

/// <summary>
/// The check at delivery: the real <see cref="WebhookDispatcher"/> with the production HttpClient, whose connect
/// callback refuses internal addresses, against a receiver on 127.0.0.1 reached as <c>localhost</c>.
/// </summary>
public sealed class WebhookSsrfDeliveryTests : IAsyncLifetime
{
    private const string Secret = "delivery-ssrf-secret";
    private readonly string directory = Path.Combine(Path.GetTempPath(), "impactgrains-ssrf-tests", Guid.NewGuid().ToString("N"));
    private readonly AlertDeliveryTests.Receiver receiver = new(Secret);
    private WebApplication? trickler;

    public Task InitializeAsync() => receiver.StartAsync();

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        if (trickler is not null)
        {
            await trickler.DisposeAsync();
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // a pooled SQLite connection may still hold a file
        }
    }

    private static AlertNode Node(string directory, params string[] allowList) => new(directory, new AlertOptions
    {
        Retries = 0,
        AttemptTimeout = TimeSpan.FromSeconds(3),
        TotalTimeout = TimeSpan.FromSeconds(5),
        RedeliveryDelay = TimeSpan.FromMinutes(5),
        AllowedWebhookHosts = [.. allowList],
    });

    /// <summary>A rule stored as it is (past the API's creation check), fired once.</summary>
    private static async Task<StoredAlert> FireAsync(AlertNode node, Uri webhook)
    {
        await node.Store.CreateRuleAsync(new AlertRule("", "acme", "score", 50, TimeSpan.FromHours(1), webhook, Secret, DateTimeOffset.UtcNow));
        node.Evaluator.RulesChanged();
        var at = DateTimeOffset.UtcNow;
        await node.Evaluator.EvaluateAsync(
            [new AlertSignal("acme", "company", at, 90, new Dictionary<string, double> { ["operational"] = 90, ["market"] = 0, ["financial"] = 0, ["reputational"] = 0 }, 0, [], null)],
            default);
        return Assert.Single(await node.Store.ListAlertsAsync(10));
    }

    private Uri Localhost(string path) => new($"http://localhost:{receiver.Url("/").Port}{path}");

    [Fact]
    public async Task A_host_name_that_resolves_to_loopback_is_refused_at_delivery_without_connecting()
    {
        using var node = Node(directory);
        var alert = await FireAsync(node, Localhost("/rebound"));
        Assert.Equal(1, await node.Dispatcher.DispatchDueAsync(default));

        Assert.Empty(receiver.Requests("/rebound"));
        var stored = (await node.Store.FindAlertAsync(alert.Alert.Id))!;
        Assert.Equal(DeliveryStatus.Pending, stored.Delivery.Status);
        Assert.Contains("not allowed", stored.Delivery.LastError);
        var attempt = Assert.Single(await node.Store.ListAttemptsAsync(stored.Delivery.Id));
        Assert.False(attempt.Succeeded);
        Assert.Null(attempt.StatusCode);
    }

    [Fact]
    public async Task An_allowed_host_name_is_delivered_to()
    {
        using var node = Node(directory, "localhost");
        var alert = await FireAsync(node, Localhost("/allowed"));
        Assert.Equal(1, await node.Dispatcher.DispatchDueAsync(default));
        var request = Assert.Single(receiver.Requests("/allowed"));
        Assert.True(request.SignatureValid);
        Assert.Equal(DeliveryStatus.Delivered, (await node.Store.FindAlertAsync(alert.Alert.Id))!.Delivery.Status);
    }

    [Fact]
    public async Task A_receiver_that_trickles_its_answer_cannot_hold_a_dispatch()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        trickler = builder.Build();
        trickler.MapPost("/slow", async (HttpContext context) =>
        {
            context.Response.StatusCode = 200;
            await context.Response.Body.FlushAsync();
            while (!context.RequestAborted.IsCancellationRequested)
            {
                await context.Response.WriteAsync("x", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(100, context.RequestAborted);
            }
        });
        await trickler.StartAsync();

        using var node = Node(directory, "127.0.0.1");
        var alert = await FireAsync(node, new Uri(new Uri(trickler.Urls.First()), "/slow"));
        var dispatch = node.Dispatcher.DispatchDueAsync(default);
        Assert.Same(dispatch, await Task.WhenAny(dispatch, Task.Delay(TimeSpan.FromSeconds(20))));
        Assert.Equal(1, await dispatch);
        Assert.Equal(DeliveryStatus.Delivered, (await node.Store.FindAlertAsync(alert.Alert.Id))!.Delivery.Status);
    }
}

/// <summary>The client identity the limits partition by.</summary>
public sealed class ClientIdentityTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void Addresses_partition_by_host_and_ipv6_by_its_64_prefix(string address, string partition) =>
        Assert.Equal(partition, ClientIdentity.AddressPartition(IPAddress.Parse(address)));

    [Fact]
    public void A_key_partitions_by_its_hash_and_is_never_kept_as_sent()
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        Assert.Equal(["ip:127.0.0.1"], ClientIdentity.Partitions(context));
        context.Request.Headers[ClientIdentity.ApiKeyHeader] = "my-secret-key";
        var partitions = ClientIdentity.Partitions(context);
        Assert.Equal(["ip:127.0.0.1", "key:" + ClientIdentity.HashApiKey("my-secret-key")], partitions);
        Assert.DoesNotContain(partitions, p => p.Contains("my-secret-key"));
        Assert.Equal(64, ClientIdentity.HashApiKey("my-secret-key").Length);
    }
}

/// <summary>
/// How the limits partition, on the limiter itself with in-memory requests (the addresses are only values here; nothing
/// is sent): the address's limit and the key's both apply.
/// </summary>
public sealed class RateLimitPartitionTests
{
    private static HttpContext Request(string address, string? key = null, string method = "GET", string path = "/api/entities")
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        context.Request.Method = method;
        context.Request.Path = path;
        if (key is not null)
        {
            context.Request.Headers[ClientIdentity.ApiKeyHeader] = key;
        }

        return context;
    }

    [Fact]
    public void Invented_keys_buy_no_fresh_allowance_and_a_key_shared_across_addresses_is_limited_as_a_whole()
    {
        using var limiter = SecuritySetup.CreateGlobalLimiter(new LimitOptions { ReadsPerSecond = 1, ReadBurst = 3, WritesPerSecond = 1, WriteBurst = 2 });
        bool Admitted(HttpContext request)
        {
            using var lease = limiter.AttemptAcquire(request);
            return lease.IsAcquired;
        }

        // One address: its burst of reads, then nothing, whatever key it sends.
        Assert.Equal([true, true, true, false], Enumerable.Range(0, 4).Select(_ => Admitted(Request("203.0.113.1"))));
        Assert.False(Admitted(Request("203.0.113.1", "invented-1")));
        Assert.False(Admitted(Request("203.0.113.1", "invented-2")));

        // Its writes have their own bucket; probes and scrapes have none.
        Assert.True(Admitted(Request("203.0.113.1", method: "POST")));
        Assert.All(Enumerable.Range(0, 10), _ => Assert.True(Admitted(Request("203.0.113.1", path: "/health/live"))));
        Assert.True(Admitted(Request("203.0.113.1", path: "/metrics")));

        // One key from many addresses: the key's burst in all, then nothing, though each address has reads left.
        Assert.Equal([true, true, true, false],
            new[] { "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5" }.Select(a => Admitted(Request(a, "shared"))));
        Assert.True(Admitted(Request("203.0.113.5")));

        // An IPv6 client is its /64.
        Assert.Equal([true, true, true, false],
            new[] { "2001:db8::1", "2001:db8::2", "2001:db8::3:4", "2001:db8::ffff" }.Select(a => Admitted(Request(a))));
        Assert.True(Admitted(Request("2001:db8:0:1::1")));
    }
}

/// <summary>Rate limits and stream limits on a server with tiny allowances, from one address (127.0.0.1).</summary>
public sealed class RateLimitTests(RateLimitTests.LimitedServer server) : IClassFixture<RateLimitTests.LimitedServer>
{
    public const int WritesPerSecond = 2, WriteBurst = 4, ReadsPerSecond = 2, ReadBurst = 6, Streams = 2;

    public sealed class LimitedServer : IAsyncLifetime
    {
        public ServerProcess Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await ServerProcess.StartAsync(demo: false, extraArgs:
        [
            $"--Impact:Limits:WritesPerSecond={WritesPerSecond}", $"--Impact:Limits:WriteBurst={WriteBurst}",
            $"--Impact:Limits:ReadsPerSecond={ReadsPerSecond}", $"--Impact:Limits:ReadBurst={ReadBurst}",
            $"--Impact:Limits:StreamsPerClient={Streams}",
        ]);

        public async Task DisposeAsync()
        {
            await Server.DisposeAsync();
            Server.DeleteData();
        }
    }

    private HttpClient Api => server.Server.Http;

    /// <summary>Every bucket full again (they refill once a second).</summary>
    private static Task RefilledAsync() => Task.Delay(TimeSpan.FromSeconds(Math.Max(WriteBurst / WritesPerSecond, ReadBurst / ReadsPerSecond) + 1.2));

    /// <summary>
    /// Sends until the first 429 and returns the answers: a full bucket lets its burst through, plus what refills (the
    /// rate, once a second) while the requests go, which on a busy machine may be a few seconds.
    /// </summary>
    private static async Task<List<HttpResponseMessage>> UntilRefusedAsync(Func<int, Task<HttpResponseMessage>> send, int burst, int perSecond)
    {
        var answers = new List<HttpResponseMessage>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 200; i++)
        {
            var response = await send(i);
            answers.Add(response);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                break;
            }
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, answers[^1].StatusCode);
        // The upper bound only has to show that the burst is enforced; the refill timer's phase against the loop (and a
        // stall of this shared machine) is given two periods of slack, since one was seen to be too tight under load.
        Assert.InRange(answers.Count - 1, burst, burst + perSecond * ((int)Math.Ceiling(clock.Elapsed.TotalSeconds) + 2));
        Assert.All(answers[..^1], a => Assert.True(a.IsSuccessStatusCode, $"{(int)a.StatusCode}"));
        return answers;
    }

    private static async Task<int> AssertTooManyAsync(HttpResponseMessage response, string title)
    {
        await response.ProblemAsync(HttpStatusCode.TooManyRequests);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(title, body.GetProperty("title").GetString());
        var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        return retryAfter;
    }

    [Fact]
    public async Task Reads_over_the_limit_get_a_429_problem_with_Retry_After_and_writes_keep_their_own_allowance()
    {
        await RefilledAsync();
        var answers = await UntilRefusedAsync(_ => Api.GetAsync("/api/entities"), ReadBurst, ReadsPerSecond);
        var retryAfter = await AssertTooManyAsync(answers[^1], "Too many requests");
        Assert.Contains("too many reads", await answers[^1].Content.ReadAsStringAsync());

        // (That inventing API keys buys no fresh allowance is RateLimitPartitionTests': here a refill could blur it.)

        // Writes have their own bucket; probes and scrapes are never limited.
        await (await Api.PutJsonAsync("/api/entities/limits-writer", """{"name":"Writer","kind":"company"}""")).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync("/metrics")).StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(retryAfter + 0.2));
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync("/api/entities/limits-writer")).StatusCode);
    }

    [Fact]
    public async Task A_refused_write_stores_nothing()
    {
        await RefilledAsync();
        var puts = await UntilRefusedAsync(i => Api.PutJsonAsync($"/api/entities/limits-put-{i}", """{"name":"Put","kind":"company"}"""), WriteBurst, WritesPerSecond);
        await AssertTooManyAsync(puts[^1], "Too many requests");
        Assert.Contains("nothing from this request was stored", await puts[^1].Content.ReadAsStringAsync());

        // Events for an entity that exists: those acknowledged are in the log, the refused one is not.
        await RefilledAsync();
        var at = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        var posts = await UntilRefusedAsync(i => Api.PostJsonAsync("/api/events", Http.Outage($"limits-event-{i}", "limits-put-0", at, 500 + i)), WriteBurst, WritesPerSecond);
        await RefilledAsync();
        await (await Api.GetAsync($"/api/entities/limits-put-{puts.Count - 1}")).ProblemAsync(HttpStatusCode.NotFound);
        var events = (await Api.GetJsonAsync("/api/entities/limits-put-0/events?limit=100")).GetProperty("events");
        Assert.Equal(
            Enumerable.Range(0, posts.Count - 1).Select(i => $"limits-event-{i}").Order(),
            events.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).Order());
    }

    [Fact]
    public async Task Streams_per_client_are_limited_and_a_closed_stream_frees_its_slot()
    {
        await RefilledAsync();
        var first = await StreamTests.SseReader.OpenAsync(Api, "/api/stream");
        await using var second = await StreamTests.SseReader.OpenAsync(Api, "/api/stream?types=score");
        using (var third = await Api.GetAsync("/api/stream", HttpCompletionOption.ResponseHeadersRead))
        {
            var retryAfter = await AssertTooManyAsync(third, "Too many streams");
            Assert.Equal(SecuritySetup.StreamRetryAfterSeconds, retryAfter);
        }

        await first.DisposeAsync();
        HttpStatusCode status = 0;
        for (var i = 0; i < 20 && status != HttpStatusCode.OK; i++)
        {
            await Task.Delay(600);
            using var again = await Api.GetAsync("/api/stream", HttpCompletionOption.ResponseHeadersRead);
            status = again.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }
}

/// <summary>What the fuzz suite found, pinned: each of these answered 500, or let a malformed value through, before.</summary>
[Collection(ServerCollection.Name)]
public sealed class HostileInputTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    [Theory]
    [InlineData("{\"name\":\"lone \\ud800 surrogate\",\"kind\":\"company\"}")]
    [InlineData("{\"name\":\"reversed \\udc00\\ud800\",\"kind\":\"company\"}")]
    [InlineData("{\"\\ud800\":1,\"name\":\"x\",\"kind\":\"company\"}")]
    public async Task Text_that_is_not_valid_unicode_is_a_400_not_a_500(string body)
    {
        var detail = await (await Api.PutJsonAsync("/api/entities/hostile-unicode", body)).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("not valid Unicode", detail);
        await (await Api.GetAsync("/api/entities/hostile-unicode")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Invalid_utf8_inside_a_string_is_a_400_not_a_500()
    {
        using var content = new ByteArrayContent([.. "{\"name\":\"bad "u8, 0xFF, 0xFE, .. "\",\"kind\":\"company\"}"u8]);
        content.Headers.ContentType = new("application/json");
        var detail = await (await Api.PutAsync("/api/entities/hostile-utf8", content)).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("not valid Unicode", detail);
    }

    [Fact]
    public async Task An_event_with_invalid_unicode_is_rejected_alone_and_the_rest_of_the_batch_is_stored()
    {
        await Api.RegisterAsync("hostile-batch");
        using var content = new ByteArrayContent(
        [
            .. "[{\"id\":\"hostile-1\",\"entity\":\"hostile-batch\",\"type\":\"statement\",\"occurredAt\":\"2025-03-10T14:00:00Z\",\"source\":\"x \\ud800\",\"data\":{\"severity\":\"minor\"}},"u8,
            .. "{\"id\":\"hostile-2\",\"entity\":\"hostile-batch\",\"type\":\"statement\",\"occurredAt\":\"2025-03-10T14:00:00Z\",\"source\":\"x "u8, 0xC0, 0xAE,
            .. "\",\"data\":{\"severity\":\"minor\"}},"u8,
            .. "{\"id\":\"hostile-3\",\"entity\":\"hostile-batch\",\"type\":\"statement\",\"occurredAt\":\"2025-03-10T14:00:00Z\",\"data\":{\"severity\":\"minor\"}}]"u8,
        ]);
        content.Headers.ContentType = new("application/json");
        var result = await (await Api.PostAsync("/api/events", content)).JsonAsync();
        Assert.Equal(1, result.GetProperty("accepted").GetInt32());
        Assert.Equal([0, 1], result.GetProperty("rejected").EnumerateArray().Select(r => r.GetProperty("index").GetInt32()));
        Assert.All(result.GetProperty("rejected").EnumerateArray(), r => Assert.Contains("not valid Unicode", r.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("/api/entities/hostile-newline%0A")]
    [InlineData("/api/entities/hostile-newline%0D%0A")]
    public async Task An_id_with_a_trailing_newline_is_not_an_id(string url)
    {
        var detail = await (await Api.PutJsonAsync(url, """{"name":"x","kind":"company"}""")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.StartsWith("id:", detail);
        Assert.DoesNotContain((await Api.GetJsonAsync("/api/entities")).EnumerateArray(), e => e.GetProperty("id").GetString()!.StartsWith("hostile-newline"));
    }

    [Theory]
    [InlineData("2025-03-10T14:00:00Z\\n")]
    [InlineData("٢٠٢٥-٠٣-١٠T14:00:00Z")]
    public async Task A_timestamp_with_a_trailing_newline_or_other_digits_is_not_rfc3339(string occurredAt)
    {
        await Api.RegisterAsync("hostile-time");
        var result = await (await Api.PostJsonAsync("/api/events",
            $$$"""{"id":"hostile-time-1","entity":"hostile-time","type":"statement","occurredAt":"{{{occurredAt}}}","data":{"severity":"minor"}}""")).JsonAsync();
        Assert.StartsWith("occurredAt:", result.GetProperty("rejected")[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_model_version_with_a_trailing_newline_is_refused()
    {
        var detail = await (await Api.PostJsonAsync("/api/admin/models", """{"version":"hostile-v\n","kappa":5}""")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("version", detail);
    }

    [Theory]
    [InlineData("step=P%D9%A1D")] // P١D: an Arabic-Indic digit
    [InlineData("step=PT%EF%BC%95M")] // PT５M: a full-width digit
    [InlineData("step=PT1H%0A")]
    public async Task A_duration_with_other_digits_or_a_newline_is_a_400(string query)
    {
        await Api.RegisterAsync("hostile-step");
        Assert.StartsWith("step:", await (await Api.GetAsync($"/api/entities/hostile-step/history?{query}")).ProblemAsync(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task The_earliest_instants_are_answered()
    {
        await Api.RegisterAsync("hostile-early");
        await (await Api.PutJsonAsync("/api/groups/hostile-early-g", """{"name":"Early","method":"max","members":["hostile-early"]}""")).JsonAsync(HttpStatusCode.Created);
        foreach (var url in new[]
                 {
                     "/api/entities/hostile-early/history?to=0001-01-01T00:00:00Z", "/api/entities/hostile-early/history?to=0001-01-03T00:00:00Z&step=P1D",
                     "/api/groups/hostile-early-g/impact?at=0001-01-01T00:00:00Z", "/api/groups/hostile-early-g/history?to=0001-01-01T12:00:00Z",
                     "/api/entities/hostile-early/impact?at=0001-01-01T00:00:00Z", "/api/groups/hostile-early-g/impact?at=9999-12-31T23:59:59.9999999Z",
                 })
        {
            using var response = await Api.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        var history = await Api.GetJsonAsync("/api/entities/hostile-early/history?to=0001-01-03T00:00:00Z&step=P1D");
        Assert.Equal(3, history.GetProperty("points").GetArrayLength()); // from the earliest instant, not a week before it
    }

    [Theory]
    [InlineData("GET", "/api/no-such-route", null, 404)]
    [InlineData("OPTIONS", "/api/entities", null, 405)]
    [InlineData("POST", "/api/events", "text/plain", 415)]
    [InlineData("PUT", "/api/entities/hostile-accept", "application/xml", 415)]
    public async Task Refusals_are_problem_json_whatever_the_client_accepts(string method, string url, string? contentType, int status)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        request.Headers.TryAddWithoutValidation("Accept", "text/html");
        if (contentType is not null)
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, contentType);
        }

        await (await Api.SendAsync(request)).ProblemAsync((HttpStatusCode)status);
    }
}
