namespace ImpactGrains.Server.Security;

/// <summary>
/// The <c>Impact:Auth</c> configuration section. Keys are configured by name, each with its roles and the SHA-256
/// of the key (never the key itself): <c>Impact:Auth:Keys:ci_ingest:Roles=ingest</c>,
/// <c>Impact:Auth:Keys:ci_ingest:Hash=sha256:…</c>. <c>ImpactGrains.Server keys create</c> makes a key and prints
/// these lines. See docs/security.md.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Impact:Auth";

    public Dictionary<string, ApiKeyEntry> Keys { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A directory of key files in the key-per-file convention (a mounted Kubernetes Secret), watched while the server
    /// runs: keys added there are admitted, and keys removed refused, without a restart (<see cref="ApiKeyDirectoryWatcher"/>).
    /// </summary>
    public string? KeysDirectory { get; set; }

    /// <summary>Let anyone read (every GET and the stream) without a key: a public, read-only viewer.</summary>
    public bool PublicRead { get; set; }

    /// <summary>The first problem with the configured keys (a name, roles or hash), naming its setting; null when they are good.</summary>
    public string? Validate()
    {
        ApiKeyRing.Parse(this, out var error);
        return error;
    }
}

/// <summary>One configured key: its roles (comma-separated) and <c>sha256:</c> followed by the hex digest of the key.</summary>
public sealed class ApiKeyEntry
{
    public string? Roles { get; set; }

    public string? Hash { get; set; }
}
