using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ImpactGrains.Server.Security;

/// <summary>A configured API key, as the server knows it: a name for logs and errors, and its roles.</summary>
public sealed record ApiKey(string Name, ApiRole Roles);

/// <summary>
/// The configured keys, looked up by the SHA-256 of what a request presents. Keys are 256 random bits, so a plain
/// SHA-256 is enough to keep them unusable if the configuration leaks; no slow password hash is needed, and the lookup
/// costs one hash per request.
/// </summary>
public sealed partial class ApiKeyRing
{
    public const string HashPrefix = "sha256:";
    public const string KeyPrefix = "ig_";

    private readonly Dictionary<string, ApiKey> byHash;

    private ApiKeyRing(Dictionary<string, ApiKey> byHash) => this.byHash = byHash;

    public static readonly ApiKeyRing Empty = new(new Dictionary<string, ApiKey>(StringComparer.Ordinal));

    public int Count => byHash.Count;

    public IEnumerable<ApiKey> Keys => byHash.Values;

    /// <summary>Every key by its hash (lower-case hex, without the prefix).</summary>
    public IReadOnlyDictionary<string, ApiKey> ByHash => byHash;

    /// <summary>A ring of these keys; the caller has checked them (<see cref="ApiKeyDirectory"/>).</summary>
    internal static ApiKeyRing Of(Dictionary<string, ApiKey> byHash) => new(byHash);

    /// <summary>The names and roles for logs (never hashes): <c>ops=admin, reader=read</c>.</summary>
    public string Describe() =>
        Count == 0 ? "none" : string.Join(", ", byHash.Values.OrderBy(k => k.Name, StringComparer.Ordinal).Select(k => $"{k.Name}={ApiRoles.Describe(k.Roles)}"));

    /// <summary>The configured key with this hash (<see cref="ClientIdentity.HashApiKey"/>), or null.</summary>
    public ApiKey? FindByHash(string hash) => byHash.GetValueOrDefault(hash);

    /// <summary>Reads and checks the configured keys; the error names the offending setting.</summary>
    public static ApiKeyRing Parse(AuthOptions options, out string? error)
    {
        error = null;
        var byHash = new Dictionary<string, ApiKey>(StringComparer.Ordinal);
        foreach (var (name, entry) in options.Keys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var setting = $"{AuthOptions.Section}:Keys:{name}";
            if (NameError(name) is { } nameError)
            {
                error = $"{setting}: {nameError}";
                break;
            }

            if (ParseRoles(entry.Roles, out var roles) is { } rolesError)
            {
                error = $"{setting}:Roles: {rolesError}";
                break;
            }

            if (entry.Hash is not { } hash || !IsHash(hash))
            {
                error = $"{setting}:Hash: expected '{HashPrefix}' and 64 hex digits, the SHA-256 of the key (ImpactGrains.Server keys create prints it)";
                break;
            }

            if (!byHash.TryAdd(hash[HashPrefix.Length..].ToLowerInvariant(), new ApiKey(name, roles)))
            {
                error = $"{setting}:Hash: the same key is configured twice";
                break;
            }
        }

        return new ApiKeyRing(byHash);
    }

    /// <summary>Whether a configured hash is <c>sha256:</c> and 64 hex digits.</summary>
    public static bool IsHash(string text) => HashValue().IsMatch(text);

    /// <summary>Why a key's name cannot be used, or null.</summary>
    public static string? NameError(string? name) =>
        name is not null && KeyName().IsMatch(name) ? null : "a key's name is 1 to 64 letters, digits or underscores (it becomes part of environment variable names)";

    /// <summary>Reads comma-separated role names; returns why they cannot be used, or null.</summary>
    public static string? ParseRoles(string? text, out ApiRole roles)
    {
        roles = ApiRole.None;
        foreach (var role in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ApiRoles.ByName.TryGetValue(role, out var known))
            {
                return $"'{role}' is not a role (use {string.Join(", ", ApiRoles.ByName.Keys)}, comma-separated)";
            }

            roles |= known;
        }

        return roles == ApiRole.None ? $"give the key at least one role ({string.Join(", ", ApiRoles.ByName.Keys)})" : null;
    }

    /// <summary>A new key: 256 random bits, base64url, with a prefix that secret scanners and people recognise.</summary>
    public static string CreateKey() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>What the configuration holds for a key.</summary>
    public static string HashOf(string key) => HashPrefix + ClientIdentity.HashApiKey(key);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex(@"\A[A-Za-z0-9_]{1,64}\z")]
    private static partial Regex KeyName();

    [GeneratedRegex(@"\Asha256:[0-9a-fA-F]{64}\z")]
    private static partial Regex HashValue();
}
