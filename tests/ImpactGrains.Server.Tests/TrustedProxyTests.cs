using System.Net;
using System.Text.RegularExpressions;
using ImpactGrains.Server.Security;
using Microsoft.Extensions.Configuration;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// A real server behind a "proxy" on loopback: the proxy's connections come from 127.0.0.2 (Impact:Network:KnownProxies)
/// or from 127.0.1.0/24 (KnownNetworks); untrusted clients connect from other 127.x addresses. Forwarded clients are
/// documentation addresses (203.0.113.0/24) that only exist in X-Forwarded-For. Reads are limited to bursts of
/// <see cref="ReadBurst"/> and one stream per client, so a bucket's owner can be told by whether it is full.
/// </summary>
public sealed partial class TrustedProxyTests(TrustedProxyTests.ProxiedServer fixture) : IClassFixture<TrustedProxyTests.ProxiedServer>
{
    public const int ReadBurst = 5;

    private static readonly IPAddress Proxy = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress EdgeInTrustedNetwork = IPAddress.Parse("127.0.1.7");

    public sealed class ProxiedServer : IAsyncLifetime
    {
        public ServerProcess Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await ServerProcess.StartAsync(demo: false, extraArgs:
        [
            .. TestApiKeys.ServerArgs,
            // Reads without a key, so that only the address partitions count (a key would be a partition of its own).
            "--Impact:Auth:PublicRead=true",
            "--Impact:Network:KnownProxies:0=127.0.0.2", "--Impact:Network:KnownNetworks:0=127.0.1.0/24",
            "--Impact:Limits:ReadsPerSecond=1", $"--Impact:Limits:ReadBurst={ReadBurst}", "--Impact:Limits:StreamsPerClient=1",
            "--Impact:Logging:AccessLog=true",
        ]);

        public async Task DisposeAsync()
        {
            await Server.DisposeAsync();
            Server.DeleteData();
        }
    }

    private ServerProcess Server => fixture.Server;

    private static HttpRequestMessage Get(string path, string? forwardedFor, string? forwardedProto = null, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        if (forwardedProto is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", forwardedProto);
        }

        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return request;
    }

    /// <summary>Reads until the first 429: the burst, plus whatever refilled (one a second) while they went.</summary>
    private static async Task<int> ReadsUntilRefusedAsync(HttpClient from, Func<int, string?> forwardedFor)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 200; i++)
        {
            using var response = await from.SendAsync(Get("/api/entities", forwardedFor(i)));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.InRange(i, ReadBurst, ReadBurst + (int)Math.Ceiling(clock.Elapsed.TotalSeconds) + 2);
                return i;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        throw new Xunit.Sdk.XunitException("200 reads and never a 429: the reads were not counted in one bucket");
    }

    /// <summary>Opens /api/stream; the answer's status says whether the client's one stream slot was free.</summary>
    private static async Task<HttpResponseMessage> StreamAsync(HttpClient from, string? forwardedFor) =>
        await from.SendAsync(Get("/api/stream", forwardedFor), HttpCompletionOption.ResponseHeadersRead);

    private async Task WaitForLogAsync(string text)
    {
        for (var i = 0; i < 100 && !Server.Output.Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(Server.Output.Contains(text, StringComparison.Ordinal), $"the server never logged '{text}':\n{Server.Output}");
    }

    [Fact]
    public async Task Two_clients_behind_a_trusted_proxy_get_separate_buckets()
    {
        using var proxy = Server.ClientFrom(Proxy);

        // Client A spends its burst and is refused.
        await ReadsUntilRefusedAsync(proxy, _ => "203.0.113.10");

        // Client B, through the same proxy at the same moment, has its whole burst; so has the proxy itself.
        for (var i = 0; i < ReadBurst - 1; i++)
        {
            using var response = await proxy.SendAsync(Get("/api/entities", "203.0.113.11"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var own = await proxy.SendAsync(Get("/api/entities", forwardedFor: null)))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        // The refusal log names the forwarded client, not the proxy.
        await WaitForLogAsync("refusing reads from ip:203.0.113.10 ");
        Assert.DoesNotContain("refusing reads from ip:127.0.0.2 ", Server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("refusing reads from ip:203.0.113.11 ", Server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_headers_from_an_untrusted_address_change_nothing()
    {
        // Loopback is not trusted unless listed (ASP.NET Core's own default would trust 127.0.0.0/8): a client at
        // 127.0.0.3 naming a new address in every request still spends one bucket, its own.
        using var untrusted = Server.ClientFrom(IPAddress.Parse("127.0.0.3"));
        await ReadsUntilRefusedAsync(untrusted, i => $"198.51.100.{i + 1}");
        await WaitForLogAsync("refusing reads from ip:127.0.0.3 ");
        Assert.DoesNotMatch(RefusedForwarded(), Server.Output);

        // Client C holds its one stream through the proxy; a second is refused, so C's stream slot is full...
        using var proxy = Server.ClientFrom(Proxy);
        using var held = await StreamAsync(proxy, "203.0.113.20");
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        using (var second = await StreamAsync(proxy, "203.0.113.20"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        }

        // ...yet another machine saying it is C is counted as itself, and gets its stream.
        using var other = Server.ClientFrom(IPAddress.Parse("127.0.0.4"));
        using var claimed = await StreamAsync(other, "203.0.113.20");
        Assert.Equal(HttpStatusCode.OK, claimed.StatusCode);
    }

    [Theory]
    [InlineData(30, "203.0.113.99")] // an address of its choosing
    [InlineData(31, "203.0.113.11")] // another client's address
    [InlineData(32, "127.0.0.2")] // the trusted proxy's own address
    [InlineData(33, "127.0.1.9")] // an address in the trusted network
    [InlineData(34, "unknown")] // not an address at all
    [InlineData(35, "203.0.113.98, 127.0.1.9, 127.0.0.2")] // a whole chain of trusted hops
    public async Task A_forged_chain_cannot_pick_its_own_bucket(int client, string forged)
    {
        // Client D holds its one stream. Whatever it puts into X-Forwarded-For, the proxy appends the address it saw
        // (D's), and D is still D: a second stream is refused.
        using var proxy = Server.ClientFrom(Proxy);
        var d = $"203.0.113.{client}";
        using var held = await StreamAsync(proxy, d);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        using var forgedStream = await StreamAsync(proxy, $"{forged}, {d}");
        Assert.Equal(HttpStatusCode.TooManyRequests, forgedStream.StatusCode);
    }

    [Fact]
    public async Task A_chain_of_trusted_hops_is_followed_to_the_client_and_stops_at_the_first_untrusted_one()
    {
        // Client E → an edge in the trusted network (127.0.1.7) → the proxy: E is the client.
        using var proxy = Server.ClientFrom(Proxy);
        using var held = await StreamAsync(proxy, "203.0.113.40");
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        using (var viaEdge = await StreamAsync(proxy, "203.0.113.40, 127.0.1.7"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, viaEdge.StatusCode);
        }

        using (var fromEdge = Server.ClientFrom(EdgeInTrustedNetwork))
        using (var direct = await StreamAsync(fromEdge, "203.0.113.99, 203.0.113.40"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, direct.StatusCode);
        }

        // A hop that is not trusted (127.0.0.9) ends the walk: it is the client, whatever it claims came before it.
        using var untrustedHop = await StreamAsync(proxy, "203.0.113.40, 127.0.0.9");
        Assert.Equal(HttpStatusCode.OK, untrustedHop.StatusCode);
    }

    [Fact]
    public async Task The_access_log_and_the_scheme_follow_the_forwarded_client_only_from_a_trusted_proxy()
    {
        using var proxy = Server.ClientFrom(Proxy);
        using (var response = await proxy.SendAsync(Get("/api/entities/proxy-log-a", "203.0.113.50", "https")))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        await WaitForLogAsync("GET /api/entities/proxy-log-a 404");
        Assert.Matches(@"GET /api/entities/proxy-log-a 404 in [0-9.]+ ms from 203\.0\.113\.50 over https, key -", Server.Output);

        using var untrusted = Server.ClientFrom(IPAddress.Parse("127.0.0.5"));
        using (var response = await untrusted.SendAsync(Get("/api/entities/proxy-log-b", "203.0.113.51", "https", TestApiKeys.Reader)))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        await WaitForLogAsync("GET /api/entities/proxy-log-b 404");
        Assert.Matches(@"GET /api/entities/proxy-log-b 404 in [0-9.]+ ms from 127\.0\.0\.5 over http, key tests_reader", Server.Output);
        Assert.DoesNotContain("203.0.113.51", Server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_key_is_logged_with_the_forwarded_client()
    {
        using var proxy = Server.ClientFrom(Proxy);
        using var response = await proxy.SendAsync(Get("/api/entities", "203.0.113.60", key: "ig_not-a-key"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await WaitForLogAsync("from ip:203.0.113.60: an invalid API key");
    }

    [GeneratedRegex(@"refusing reads from ip:198\.51\.100\.")]
    private static partial Regex RefusedForwarded();
}

/// <summary>Reading Impact:Network, and the server's refusal to start on a bad entry.</summary>
public sealed class TrustedProxySettingsTests
{
    private static TrustedProxies Read(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
        var trusted = TrustedProxies.Read(configuration, out var error);
        Assert.Null(error);
        return trusted;
    }

    [Fact]
    public void Nothing_is_trusted_unless_listed()
    {
        var none = Read();
        Assert.True(none.IsEmpty);
        Assert.False(none.Trusts(IPAddress.Loopback));
        Assert.False(none.Trusts(IPAddress.IPv6Loopback));
    }

    [Fact]
    public void Lists_come_indexed_or_comma_separated_and_mapped_addresses_count_as_ipv4()
    {
        var trusted = Read(
            ("Impact:Network:KnownProxies:0", "192.0.2.10"), ("Impact:Network:KnownProxies:1", "2001:db8::10"),
            ("Impact:Network:KnownNetworks", "10.244.0.0/16, fd00::/8"), ("Impact:Network:KnownNetworks:0", "172.20.5.6"));
        Assert.True(trusted.Trusts(IPAddress.Parse("192.0.2.10")));
        Assert.True(trusted.Trusts(IPAddress.Parse("::ffff:192.0.2.10")));
        Assert.False(trusted.Trusts(IPAddress.Parse("192.0.2.11")));
        Assert.True(trusted.Trusts(IPAddress.Parse("2001:db8::10")));
        Assert.True(trusted.Trusts(IPAddress.Parse("10.244.200.3")));
        Assert.True(trusted.Trusts(IPAddress.Parse("::ffff:10.244.0.1")));
        Assert.False(trusted.Trusts(IPAddress.Parse("10.245.0.1")));
        Assert.True(trusted.Trusts(IPAddress.Parse("fd12::1")));
        Assert.True(trusted.Trusts(IPAddress.Parse("172.20.5.6")));
        Assert.False(trusted.Trusts(IPAddress.Parse("172.20.5.7")));
        Assert.False(trusted.Trusts(null));
    }

    [Theory]
    [InlineData("--Impact:Network:KnownProxies:0=banana", "Impact:Network:KnownProxies:0: 'banana' is not an IP address")]
    [InlineData("--Impact:Network:KnownProxies:0=10.1", "Impact:Network:KnownProxies:0: '10.1' is not an IP address")]
    [InlineData("--Impact:Network:KnownProxies=127.0.0.2,banana", "Impact:Network:KnownProxies: 'banana' is not an IP address")]
    [InlineData("--Impact:Network:KnownProxies:0=10.0.0.0/8", "Impact:Network:KnownProxies:0: '10.0.0.0/8' is a network; list networks under Impact:Network:KnownNetworks")]
    [InlineData("--Impact:Network:KnownNetworks:0=10.0.0.0/33", "Impact:Network:KnownNetworks:0: '10.0.0.0/33' is not a network")]
    [InlineData("--Impact:Network:KnownNetworks:0=10.0.0.1/8", "Impact:Network:KnownNetworks:0: '10.0.0.1/8' is not a network")]
    [InlineData("--Impact:Network:KnownNetworks:0=0.0.0.0/0", "Impact:Network:KnownNetworks:0: '0.0.0.0/0' trusts every address")]
    [InlineData("--FORWARDEDHEADERS_ENABLED=true", "ASPNETCORE_FORWARDEDHEADERS_ENABLED trusts X-Forwarded-For from every address")]
    public async Task The_server_refuses_to_start_with_a_bad_entry(string setting, string expected)
    {
        var (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), "--urls=http://127.0.0.1:0", setting,
            "--Impact:DataDirectory=" + Path.Combine(Path.GetTempPath(), "impactgrains-tests", Guid.NewGuid().ToString("N")));
        Assert.Equal(2, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }
}
