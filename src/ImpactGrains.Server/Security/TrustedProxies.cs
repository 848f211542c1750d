using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace ImpactGrains.Server.Security;

/// <summary>
/// The <c>Impact:Network</c> section: the reverse proxies (an ingress controller, a load balancer) whose
/// <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> the server believes. <c>KnownProxies</c> lists addresses,
/// <c>KnownNetworks</c> CIDRs (a single address counts as its /32 or /128); both are lists like every other list key
/// (<c>Impact:Network:KnownNetworks:0=10.244.0.0/16</c>, or comma-separated in one value). Nothing is trusted unless
/// listed, loopback included. See docs/security.md, "Behind a proxy".
/// </summary>
public sealed class TrustedProxies
{
    public const string Section = "Impact:Network";

    private readonly HashSet<IPAddress> proxies;
    private readonly IPNetwork[] networks;

    private TrustedProxies(HashSet<IPAddress> proxies, IPNetwork[] networks)
    {
        this.proxies = proxies;
        this.networks = networks;
    }

    public IReadOnlyCollection<IPAddress> Proxies => proxies;

    public IReadOnlyList<IPNetwork> Networks => networks;

    /// <summary>No proxy is trusted: the forwarded headers are never read, and nothing is added to the pipeline.</summary>
    public bool IsEmpty => proxies.Count == 0 && networks.Length == 0;

    /// <summary>Whether a peer (the connection's remote address) may tell who the client is.</summary>
    public bool Trusts(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (proxies.Contains(address))
        {
            return true;
        }

        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads and checks the section; the error names the offending setting.</summary>
    public static TrustedProxies Read(IConfiguration configuration, out string? error) =>
        From(TrustedProxyOptions.Read(configuration), out error);

    /// <summary>The trusted proxies the settings list; the error names the first offending setting.</summary>
    public static TrustedProxies From(TrustedProxyOptions settings, out string? error)
    {
        error = null;
        var proxies = new HashSet<IPAddress>();
        var networks = new List<IPNetwork>();
        foreach (var (setting, entry) in settings.KnownProxies)
        {
            if (entry.Contains('/', StringComparison.Ordinal))
            {
                error = $"{setting}: '{entry}' is a network; list networks under {Section}:KnownNetworks";
                break;
            }

            if (!TryParseAddress(entry, out var address))
            {
                error = $"{setting}: '{entry}' is not an IP address (203.0.113.7, 2001:db8::7)";
                break;
            }

            proxies.Add(address);
        }

        foreach (var (setting, entry) in error is null ? settings.KnownNetworks : [])
        {
            if (!TryParseNetwork(entry, out var network))
            {
                error = $"{setting}: '{entry}' is not a network in CIDR form with no bits set past its prefix (10.244.0.0/16, fd00::/8)";
                break;
            }

            if (network.PrefixLength == 0)
            {
                error = $"{setting}: '{entry}' trusts every address, so any client could choose the address its limits are counted by; list the proxies' own network";
                break;
            }

            networks.Add(network);
        }

        return new TrustedProxies(proxies, [.. networks]);
    }

    /// <summary>
    /// An address as people write it. IPv4 must be the dotted quad (IPAddress.TryParse also takes "10.1" or "167772161",
    /// which nobody means in a trust list).
    /// </summary>
    private static bool TryParseAddress(string entry, out IPAddress address)
    {
        if (!IPAddress.TryParse(entry, out address!))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork && address.ToString() != entry)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return true;
    }

    private static bool TryParseNetwork(string entry, out IPNetwork network)
    {
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            network = default;
            if (!TryParseAddress(entry, out var single))
            {
                return false;
            }

            network = new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        // IPNetwork.TryParse would quietly clear bits set past the prefix; "10.0.0.1/8" is more likely a typo than 10/8.
        network = default;
        return TryParseAddress(entry[..slash], out var address) && IPNetwork.TryParse(entry, out network) && network.BaseAddress.Equals(address);
    }
}

/// <summary>
/// The <see cref="TrustedProxies.Section"/> section as written: each list entry with the setting it came from, so that a
/// refusal names it, and ASP.NET Core's own forwarded-headers switch, which must stay off.
/// </summary>
public sealed class TrustedProxyOptions
{
    /// <summary>The check run when the host is built and again on start: one line naming the first bad setting.</summary>
    public static readonly IValidateOptions<TrustedProxyOptions> Validator = new Hosting.OptionsCheck<TrustedProxyOptions>(o => o.Validate());

    public List<(string Setting, string Entry)> KnownProxies { get; } = [];

    public List<(string Setting, string Entry)> KnownNetworks { get; } = [];

    /// <summary>ASPNETCORE_FORWARDEDHEADERS_ENABLED, which adds the middleware trusting every address.</summary>
    public bool ForwardedHeadersEnabled { get; set; }

    public static TrustedProxyOptions Read(IConfiguration configuration)
    {
        var options = new TrustedProxyOptions();
        options.ReadFrom(configuration);
        return options;
    }

    public void ReadFrom(IConfiguration configuration)
    {
        KnownProxies.Clear();
        KnownProxies.AddRange(ReadList(configuration, "KnownProxies"));
        KnownNetworks.Clear();
        KnownNetworks.AddRange(ReadList(configuration, "KnownNetworks"));
        ForwardedHeadersEnabled = configuration.GetValue("FORWARDEDHEADERS_ENABLED", false);
    }

    public string? Validate()
    {
        TrustedProxies.From(this, out var error);
        if (error is null && ForwardedHeadersEnabled)
        {
            // Anyone could choose the address they are counted by.
            error = "ASPNETCORE_FORWARDEDHEADERS_ENABLED trusts X-Forwarded-For from every address, so any client could choose the " +
                    $"address its limits are counted by; unset it and list the proxies in {TrustedProxies.Section}:KnownProxies or KnownNetworks";
        }

        return error;
    }

    /// <summary>
    /// Every entry of a list key with the setting it came from: indexed children (<c>:0</c>, <c>:1</c>, …) and the key's
    /// own value, each split at commas, so that a list given as one environment variable is not silently ignored.
    /// </summary>
    private static List<(string Setting, string Entry)> ReadList(IConfiguration configuration, string key)
    {
        var section = configuration.GetSection($"{TrustedProxies.Section}:{key}");
        var sources = new List<(string, string)>();
        if (section.Value is { } own)
        {
            sources.Add((section.Path, own));
        }

        sources.AddRange(section.GetChildren()
            .OrderBy(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue)
            .ThenBy(c => c.Key, StringComparer.Ordinal)
            .Where(c => c.Value is not null)
            .Select(c => (c.Path, c.Value!)));
        return sources
            .SelectMany(s => s.Item2.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(entry => (s.Item1, entry)))
            .ToList();
    }
}

/// <summary>Where the forwarded headers are read: first in the pipeline, and only for requests from a trusted proxy.</summary>
public static class ForwardedHeadersSetup
{
    public static WebApplicationBuilder AddImpactTrustedProxies(this WebApplicationBuilder builder)
    {
        // Refused now, before Orleans or the database is touched, and checked again on start like every option.
        var validator = TrustedProxyOptions.Validator;
        if (validator.Validate(Options.DefaultName, TrustedProxyOptions.Read(builder.Configuration)) is { Failed: true } invalid)
        {
            Hosting.StartupRefusal.Exit(invalid.FailureMessage);
        }

        builder.Services.AddTrustedProxyOptions(builder.Configuration);
        builder.Services.AddSingleton(sp => TrustedProxies.From(sp.GetRequiredService<IOptions<TrustedProxyOptions>>().Value, out _));
        return builder;
    }

    /// <summary>The <see cref="TrustedProxies.Section"/> settings as options, validated on start.</summary>
    public static OptionsBuilder<TrustedProxyOptions> AddTrustedProxyOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TrustedProxyOptions.Validator);
        return services.AddOptions<TrustedProxyOptions>().Configure(o => o.ReadFrom(configuration)).ValidateOnStart();
    }

    /// <summary>
    /// ASP.NET Core's forwarded-headers middleware with only the configured proxies trusted (its loopback defaults
    /// cleared), X-Forwarded-For and X-Forwarded-Proto only (never the host or path base, which would let a client
    /// rewrite links), and no hop limit: it walks the chain from the right while each hop is trusted, so a client can
    /// put anything it likes at the left of X-Forwarded-For and still be counted by the address the last trusted proxy
    /// saw. Requests from elsewhere skip it entirely (one set lookup), which keeps the direct path as it was.
    /// </summary>
    public static WebApplication UseImpactForwardedHeaders(this WebApplication app)
    {
        var trusted = app.Services.GetRequiredService<TrustedProxies>();
        if (trusted.IsEmpty)
        {
            return app;
        }

        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = null,
        };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in trusted.Proxies)
        {
            options.KnownProxies.Add(proxy);
        }

        foreach (var network in trusted.Networks)
        {
            options.KnownIPNetworks.Add(network);
        }

        app.UseWhen(context => trusted.Trusts(context.Connection.RemoteIpAddress), branch => branch.UseForwardedHeaders(options));
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ImpactGrains.Security");
        logger.LogInformation("Trusting X-Forwarded-For and X-Forwarded-Proto from {Proxies}",
            string.Join(", ", trusted.Proxies.Select(p => p.ToString()).Concat(trusted.Networks.Select(n => n.ToString()))));
        return app;
    }
}
