using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// A stored password hash for the Orleans Dashboard's Basic authentication: only the hash is configured, never the
/// password. Two forms are read:
/// <list type="bullet">
/// <item><c>sha256:&lt;64 hex digits&gt;</c>: SHA-256 of the UTF-8 password (<c>printf %s 'pw' | sha256sum</c>);</item>
/// <item><c>pbkdf2-sha256:&lt;iterations&gt;:&lt;salt, base64&gt;:&lt;hash, base64&gt;</c>: PBKDF2-HMAC-SHA256, the
/// stronger choice for a password a person picked.</item>
/// </list>
/// </summary>
public sealed class DashboardPasswordHash
{
    public const string Forms = "sha256:<64 hex digits> or pbkdf2-sha256:<iterations>:<salt, base64>:<hash, base64>";

    private readonly string algorithm;
    private readonly byte[] expected;
    private readonly byte[] salt;
    private readonly int iterations;

    private DashboardPasswordHash(string algorithm, byte[] expected, byte[] salt, int iterations)
    {
        this.algorithm = algorithm;
        this.expected = expected;
        this.salt = salt;
        this.iterations = iterations;
    }

    /// <summary>Reads a configured hash; null with <paramref name="error"/> when it has neither form.</summary>
    public static DashboardPasswordHash? TryParse(string? text, out string error)
    {
        error = $"must be {Forms}";
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var parts = text.Trim().Split(':');
        try
        {
            switch (parts[0].ToLowerInvariant())
            {
                case "sha256" when parts.Length == 2 && parts[1].Length == 64:
                    return new DashboardPasswordHash("sha256", Convert.FromHexString(parts[1]), [], 0);
                case "pbkdf2-sha256" or "pbkdf2" when parts.Length == 4:
                    var count = int.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture);
                    var saltBytes = Convert.FromBase64String(parts[2]);
                    var hash = Convert.FromBase64String(parts[3]);
                    if (count < 1000 || saltBytes.Length < 8 || hash.Length < 16)
                    {
                        error = "pbkdf2-sha256 needs at least 1000 iterations, a salt of at least 8 bytes and a hash of at least 16 bytes";
                        return null;
                    }

                    return new DashboardPasswordHash("pbkdf2-sha256", hash, saltBytes, count);
            }
        }
        catch (FormatException)
        {
            // falls through to the error
        }
        catch (OverflowException)
        {
        }

        return null;
    }

    /// <summary>The <c>pbkdf2-sha256</c> form of a password, with a fresh random salt.</summary>
    public static string CreatePbkdf2(string password, int iterations = 210_000)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256:{iterations.ToString(CultureInfo.InvariantCulture)}:{Convert.ToBase64String(salt)}:{Convert.ToBase64String(hash)}";
    }

    /// <summary>The <c>sha256</c> form of a password.</summary>
    public static string CreateSha256(string password) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password)));

    /// <summary>Whether <paramref name="password"/> matches, compared in constant time.</summary>
    public bool Verify(string password)
    {
        var bytes = Encoding.UTF8.GetBytes(password);
        var actual = algorithm == "sha256"
            ? SHA256.HashData(bytes)
            : Rfc2898DeriveBytes.Pbkdf2(bytes, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
