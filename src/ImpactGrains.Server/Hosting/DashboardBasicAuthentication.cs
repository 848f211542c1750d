using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Hosting;

/// <summary>The options of <see cref="DashboardBasicAuthenticationHandler"/>: the one operator account.</summary>
public sealed class DashboardBasicAuthenticationOptions : AuthenticationSchemeOptions
{
    public string Realm { get; set; } = "ImpactGrains operators";

    public DashboardCredentials? Credentials { get; set; }
}

/// <summary>The operator account of the Orleans Dashboard: a user name and a password hash.</summary>
public sealed class DashboardCredentials(string username, DashboardPasswordHash hash)
{
    // A PBKDF2 check costs tens of milliseconds, and the dashboard polls several times a second: the digest of the
    // last header that passed is kept, so a browser that keeps sending the same credentials is checked cheaply.
    private byte[]? lastAccepted;

    public string Username { get; } = username;

    public bool Verify(string username, string password)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(username + "\0" + password));
        var remembered = Volatile.Read(ref lastAccepted);
        if (remembered is not null && CryptographicOperations.FixedTimeEquals(digest, remembered))
        {
            return true;
        }

        var nameMatches = CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(username), Encoding.UTF8.GetBytes(Username));
        var passwordMatches = hash.Verify(password);
        if (nameMatches && passwordMatches)
        {
            Volatile.Write(ref lastAccepted, digest);
            return true;
        }

        return false;
    }
}

/// <summary>
/// HTTP Basic authentication (RFC 7617) for the Orleans Dashboard's routes only. A request without credentials is
/// challenged with <c>WWW-Authenticate: Basic</c>, so a browser asks for them. Serve it behind TLS beyond loopback.
/// </summary>
public sealed class DashboardBasicAuthenticationHandler(
    IOptionsMonitor<DashboardBasicAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<DashboardBasicAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "ImpactDashboardBasic";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization.ToString(), out var header) ||
            !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter ?? ""));
        }
        catch (FormatException)
        {
            return Task.FromResult(AuthenticateResult.Fail("the Basic credentials are not base64"));
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || Options.Credentials is not { } credentials || !credentials.Verify(decoded[..colon], decoded[(colon + 1)..]))
        {
            return Task.FromResult(AuthenticateResult.Fail("wrong user name or password"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, credentials.Username)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"Basic realm=\"{Options.Realm}\", charset=\"UTF-8\"";
        return Task.CompletedTask;
    }
}
