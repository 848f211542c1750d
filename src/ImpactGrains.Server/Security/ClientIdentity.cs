using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ImpactGrains.Server.Security;

/// <summary>
/// Who a request comes from, for the limits: its remote address and, when it carries one, its API key. The key is
/// only ever kept as a hash (<see cref="HashApiKey"/>), never logged or stored as sent.
/// </summary>
public static class ClientIdentity
{
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>
    /// The partition of the remote address: an IPv4 address as is, an IPv6 address by its /64 prefix (one host
    /// usually holds the whole /64), an IPv4-mapped IPv6 address as the IPv4 address.
    /// </summary>
    public static string AddressPartition(HttpContext context)
    {
        // Formatted once per connection and address (the forwarded-headers middleware may give each request of a
        // proxy's connection another address), not on every request and every limiter.
        var address = context.Connection.RemoteIpAddress;
        var items = context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()?.Items;
        if (items is not null && items.TryGetValue(AddressPartitionItem, out var cached) && cached is (IPAddress known, string text) && Equals(known, address))
        {
            return text;
        }

        var partition = "ip:" + AddressPartition(address);
        if (items is not null && address is not null)
        {
            items[AddressPartitionItem] = (address, partition);
        }

        return partition;
    }

    private static readonly object AddressPartitionItem = new();

    public static string AddressPartition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown"; // an in-memory transport or a Unix socket: one shared partition
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>The partition of the request's API key, or null when it carries none.</summary>
    public static string? KeyPartition(HttpContext context) => PresentedKeyHash(context) is { } hash ? "key:" + hash : null;

    private static readonly object PresentedKeyHashItem = new();

    /// <summary>
    /// <see cref="HashApiKey"/> of the request's <see cref="PresentedKey"/>, or null when it presents none. Hashed once
    /// per request and key: the rate limits, the stream limit and authentication all ask for it.
    /// </summary>
    public static string? PresentedKeyHash(HttpContext context)
    {
        if (PresentedKey(context.Request) is not { } key)
        {
            return null;
        }

        if (context.Items.TryGetValue(PresentedKeyHashItem, out var cached) && cached is (string cachedKey, string cachedHash) && cachedKey == key)
        {
            return cachedHash;
        }

        var hash = HashApiKey(key);
        context.Items[PresentedKeyHashItem] = (key, hash);
        return hash;
    }

    /// <summary>
    /// The API key a request presents: the <c>X-Api-Key</c> header, or <c>Authorization: Bearer</c> (what Prometheus
    /// and most HTTP tools send), or the password of <c>Authorization: Basic</c> (what a browser sends to the Orleans
    /// Dashboard after asking; the user name is ignored). Null when it presents none.
    /// </summary>
    public static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(ApiKeyHeader, out var values) && values.ToString() is { Length: > 0 } header)
        {
            return header;
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization[7..].Trim() is { Length: > 0 } bearer)
        {
            return bearer;
        }

        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                return decoded.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 && colon < decoded.Length - 1 ? decoded[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>The lower-case hex SHA-256 of the key's UTF-8 bytes: what may be compared, logged or configured.</summary>
    public static string HashApiKey(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The address partition and, when there is a key, the key partition.</summary>
    public static IReadOnlyList<string> Partitions(HttpContext context) =>
        KeyPartition(context) is { } key ? [AddressPartition(context), key] : [AddressPartition(context)];

    /// <summary>A short form of a partition for logs: a key partition shows only the start of its hash.</summary>
    public static string ForLog(string partition) =>
        partition.StartsWith("key:", StringComparison.Ordinal) && partition.Length > 16 ? partition[..16] + "…" : partition;

    internal static bool IsWrite(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    internal static string Describe(string partition) =>
        partition.StartsWith("key:", StringComparison.Ordinal) ? "this API key" : "this address";
}
