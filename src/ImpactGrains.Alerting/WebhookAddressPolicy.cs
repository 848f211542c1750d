using System.Net;
using System.Net.Sockets;

namespace ImpactGrains.Alerting;

/// <summary>
/// Where webhooks may go (SSRF): only to publicly routable addresses, unless <see cref="AlertOptions.AllowedWebhookHosts"/>
/// lets a network (CIDR, or one address) or a host name (exact, or <c>*.example.com</c> for its subdomains) through.
/// Loopback, private (RFC 1918), carrier-grade NAT, link-local (the cloud metadata service at 169.254.169.254 among
/// them), multicast, unspecified, reserved, and IPv6 unique-local and site-local addresses are internal; so is an
/// IPv4 address hidden in an IPv6 one (IPv4-mapped, IPv4-compatible, NAT64, 6to4).
/// <para>
/// It is checked twice: when a rule is created (<see cref="CheckAsync"/>: a literal address, or every address the
/// host name resolves to) and when a webhook connects (<see cref="ConnectAsync"/>, the HTTP client's connect callback:
/// the name is resolved again and only an allowed address is connected to), so a name that resolves to something
/// else later (DNS rebinding) still cannot reach an internal address.
/// </para>
/// </summary>
public sealed class WebhookAddressPolicy
{
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(3);

    private readonly List<IPNetwork> networks = [];
    private readonly HashSet<string> hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> domainSuffixes = [];

    public WebhookAddressPolicy(IEnumerable<string> allowList)
    {
        foreach (var raw in allowList)
        {
            var entry = raw.Trim();
            if (TryParseNetwork(entry, out var network))
            {
                networks.Add(network);
            }
            else if (entry.StartsWith("*.", StringComparison.Ordinal) && IsHostName(entry[2..]))
            {
                domainSuffixes.Add(entry[1..].ToLowerInvariant());
            }
            else if (IsHostName(entry))
            {
                hosts.Add(entry.TrimEnd('.'));
            }
            else
            {
                throw new FormatException(Describe(raw));
            }
        }
    }

    /// <summary>The start-up check of an allow-list: an error message, or null.</summary>
    public static string? Validate(IEnumerable<string>? allowList) =>
        allowList?.FirstOrDefault(e => !TryParseNetwork(e.Trim(), out _) && !IsHostName(e.Trim().StartsWith("*.", StringComparison.Ordinal) ? e.Trim()[2..] : e.Trim())) is { } bad
            ? Describe(bad)
            : null;

    private static string Describe(string entry) =>
        $"Impact:Alerts:AllowedWebhookHosts: '{entry}' is neither a CIDR (10.0.0.0/8, fd00::/8), an address, a host name nor *.domain";

    /// <summary>Whether the host name is allowed by name, whatever it resolves to.</summary>
    public bool IsHostAllowed(string host)
    {
        host = host.TrimEnd('.');
        return hosts.Contains(host) || domainSuffixes.Any(s => host.EndsWith(s, StringComparison.OrdinalIgnoreCase) && host.Length > s.Length);
    }

    /// <summary>Whether a webhook may connect to the address: a public one, or one in an allowed network.</summary>
    public bool IsAddressAllowed(IPAddress address)
    {
        var normal = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return IsPublic(normal) || networks.Any(n => n.Contains(normal) || n.Contains(address));
    }

    /// <summary>
    /// The check at rule creation: why the webhook's host is refused, or null. A host name that does not resolve now is
    /// let through; it is checked again at every connection.
    /// </summary>
    public async Task<string?> CheckAsync(Uri webhook, CancellationToken cancellationToken)
    {
        var host = HostOf(webhook);
        if (IsHostAllowed(host))
        {
            return null;
        }

        if (IPAddress.TryParse(host, out var literal))
        {
            return IsAddressAllowed(literal) ? null : Refusal(host, literal);
        }

        IPAddress[] addresses;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(ResolveTimeout);
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, timeout.Token);
            }
            catch (Exception ex) when (ex is SocketException or ArgumentException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }

        return addresses.FirstOrDefault(a => !IsAddressAllowed(a)) is { } refused ? Refusal(host, refused) : null;
    }

    private static string Refusal(string host, IPAddress address) =>
        (IPAddress.TryParse(host, out _) ? $"{address} is" : $"'{host}' resolves to {address}, which is") +
        " an internal address (loopback, private, link-local, multicast or reserved); webhooks may reach it only when Impact:Alerts:AllowedWebhookHosts allows it";

    /// <summary>
    /// The webhook client's <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host and connects only to an
    /// allowed address, trying each in turn.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var candidates = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = IsHostAllowed(host) ? candidates : candidates.Where(IsAddressAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new WebhookAddressRefusedException(
                $"the webhook host '{host}' resolves only to addresses that are not allowed ({string.Join(", ", candidates.Take(3))}); " +
                "internal addresses need Impact:Alerts:AllowedWebhookHosts");
        }

        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }

    /// <summary>Whether the address is publicly routable, as far as a webhook is concerned.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !(b[0] is 0 or 10 or 127 or >= 224 ||                  // this network, private, loopback, multicast, reserved, broadcast
                     b[0] == 100 && (b[1] & 0xC0) == 64 ||                // carrier-grade NAT 100.64.0.0/10
                     b[0] == 169 && b[1] == 254 ||                        // link-local, cloud metadata
                     b[0] == 172 && (b[1] & 0xF0) == 16 ||                // private 172.16.0.0/12
                     b[0] == 192 && b[1] == 168 ||                        // private 192.168.0.0/16
                     b[0] == 192 && b[1] == 0 && b[2] == 0 ||             // IETF protocol assignments 192.0.0.0/24
                     b[0] == 198 && (b[1] & 0xFE) == 18);                 // benchmarking 198.18.0.0/15
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        if (address.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(address) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal ||
            address.IsIPv6Multicast || address.IsIPv6UniqueLocal)
        {
            return false;
        }

        // IPv4 inside IPv6: judged as that IPv4 address.
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
        {
            return IsPublic(new IPAddress(b.AsSpan(12, 4)));                                     // ::a.b.c.d (IPv4-compatible)
        }

        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
        {
            return IsPublic(new IPAddress(b.AsSpan(12, 4)));                                     // NAT64 64:ff9b::/96
        }

        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return IsPublic(new IPAddress(b.AsSpan(2, 4)));                                      // 6to4 2002::/16
        }

        return !(b[0] == 0x01 && b[1] == 0x00 && b.AsSpan(2, 6).IndexOfAnyExcept((byte)0) < 0); // discard 100::/64
    }

    /// <summary>The host of a URL without IPv6 brackets, as the connection sees it.</summary>
    public static string HostOf(Uri uri) => uri.IdnHost.Trim('[', ']');

    private static bool TryParseNetwork(string entry, out IPNetwork network)
    {
        if (IPNetwork.TryParse(entry, out network))
        {
            return true;
        }

        if (IPAddress.TryParse(entry, out var single) && !entry.Contains('/'))
        {
            network = new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return false;
    }

    private static bool IsHostName(string entry) => entry.Length > 0 && Uri.CheckHostName(entry.TrimEnd('.')) == UriHostNameType.Dns;
}

/// <summary>A webhook connection refused by <see cref="WebhookAddressPolicy"/>: nothing was sent.</summary>
public sealed class WebhookAddressRefusedException(string message) : IOException(message);
