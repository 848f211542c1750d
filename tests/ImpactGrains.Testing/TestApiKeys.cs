using System.Security.Cryptography;

namespace ImpactGrains.Testing;

/// <summary>
/// API keys for servers under test: made fresh for each test process, so that the repository holds no usable key.
/// <see cref="ServerProcess"/> sends <see cref="Admin"/> on every request; tests of the roles send the others.
/// </summary>
public static class TestApiKeys
{
    public static readonly string Admin = Create();
    public static readonly string Reader = Create();
    public static readonly string Ingester = Create();

    /// <summary>The server arguments that admit the three keys, by their hashes, as an operator would configure them.</summary>
    public static string[] ServerArgs =>
    [
        .. Entry("tests_admin", "admin", Admin),
        .. Entry("tests_reader", "read", Reader),
        .. Entry("tests_ingester", "ingest", Ingester),
    ];

    /// <summary>The lines of one key, for servers that need other keys.</summary>
    public static string[] Entry(string name, string roles, string key) =>
        [$"--Impact:Auth:Keys:{name}:Roles={roles}", $"--Impact:Auth:Keys:{name}:Hash={HashOf(key)}"];

    public static string HashOf(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    public static string Create() => "ig_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
