using ImpactGrains.Alerting;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// Options validated on start, in-process: a value that reaches the host without the builder's early check (another
/// configuration source, a later change) still stops the start, and the server's refusal line is the check's message.
/// </summary>
public sealed class StartupValidationTests
{
    [Fact]
    public async Task A_bad_value_stops_the_start_with_the_checks_message()
    {
        using var host = Host(new Dictionary<string, string?> { ["Impact:Limits:WritesPerSecond"] = "0" });
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        Assert.Equal(new LimitOptions { WritesPerSecond = 0 }.Validate(), StartupValidation.RefusalMessage(failure));
    }

    [Fact]
    public async Task Every_failing_section_is_named_in_the_one_line()
    {
        using var host = Host(new Dictionary<string, string?>
        {
            ["Impact:Limits:StreamsPerClient"] = "0",
            ["Impact:Alerts:AllowedWebhookHosts:0"] = "10.0.0.0/40",
        });
        var line = StartupValidation.RefusalMessage(await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync()));
        Assert.NotNull(line);
        Assert.DoesNotContain('\n', line);
        Assert.Contains("Impact:Limits:StreamsPerClient must be at least 1", line);
        Assert.Contains("Impact:Alerts:AllowedWebhookHosts: '10.0.0.0/40'", line);
    }

    [Fact]
    public async Task Good_values_start()
    {
        using var host = Host(new Dictionary<string, string?> { ["Impact:Alerts:AllowedWebhookHosts:0"] = "10.0.0.0/8" });
        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public async Task A_trusted_network_of_every_address_stops_the_start_with_one_line()
    {
        using var host = Host(new Dictionary<string, string?> { ["Impact:Network:KnownNetworks:0"] = "0.0.0.0/0" });
        var line = StartupValidation.RefusalMessage(await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync()));
        Assert.NotNull(line);
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("Impact:Network:KnownNetworks:0: '0.0.0.0/0' trusts every address", line);
    }

    [Fact]
    public async Task Asp_net_cores_own_forwarded_headers_switch_stops_the_start()
    {
        using var host = Host(new Dictionary<string, string?> { ["FORWARDEDHEADERS_ENABLED"] = "true" });
        var line = StartupValidation.RefusalMessage(await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync()));
        Assert.StartsWith("ASPNETCORE_FORWARDEDHEADERS_ENABLED trusts X-Forwarded-For from every address", line);
    }

    [Fact]
    public async Task An_api_key_with_a_bad_hash_stops_the_start_with_one_line()
    {
        using var host = Host(new Dictionary<string, string?>
        {
            ["Impact:Auth:Keys:operator:Roles"] = "admin",
            ["Impact:Auth:Keys:operator:Hash"] = "sha256:not-hex",
        });
        var line = StartupValidation.RefusalMessage(await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync()));
        Assert.NotNull(line);
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("Impact:Auth:Keys:operator:Hash: expected 'sha256:' and 64 hex digits", line);
    }

    [Fact]
    public async Task Good_keys_and_proxies_start()
    {
        using var host = Host(new Dictionary<string, string?>
        {
            ["Impact:Auth:Keys:operator:Roles"] = "admin",
            ["Impact:Auth:Keys:operator:Hash"] = "sha256:" + new string('a', 64),
            ["Impact:Network:KnownProxies"] = "10.0.0.7, 2001:db8::7",
            ["Impact:Network:KnownNetworks:0"] = "10.244.0.0/16",
        });
        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public void Other_failures_are_not_refusals()
    {
        Assert.Null(StartupValidation.RefusalMessage(new InvalidOperationException("boom")));
        Assert.Null(StartupValidation.RefusalMessage(new AggregateException(new InvalidOperationException("boom"))));
    }

    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddCheckedOptions(builder.Configuration.GetSection(LimitOptions.Section), new OptionsCheck<LimitOptions>(o => o.Validate()));
        builder.Services.AddCheckedOptions(builder.Configuration.GetSection(AlertOptions.Section), new AlertOptionsValidation());
        builder.Services.AddCheckedOptions(builder.Configuration.GetSection(AuthOptions.Section), new OptionsCheck<AuthOptions>(o => o.Validate()));
        builder.Services.AddTrustedProxyOptions(builder.Configuration);
        return builder.Build();
    }
}
