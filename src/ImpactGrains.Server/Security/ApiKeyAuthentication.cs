using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Security;

/// <summary>How the server admits requests: decided at start-up, except the keys, which a keys directory may change.</summary>
public sealed class AccessPlan(bool open, ApiKeyRing keys, bool publicRead)
{
    private volatile ApiKeyRing keys = keys;

    /// <summary>No keys: the embedded default on loopback, where anyone on this machine may do anything.</summary>
    public bool Open { get; } = open;

    /// <summary>Reads need no key (<see cref="AuthOptions.PublicRead"/>).</summary>
    public bool PublicRead { get; } = publicRead;

    /// <summary>The keys admitted now (none when open): the configured ones and those of the keys directory.</summary>
    public ApiKeyRing Keys => keys;

    /// <summary>
    /// Swaps the ring in one reference write (<see cref="ApiKeyDirectoryWatcher"/>): a request looks its key up in the
    /// old ring or the new one, never in something in between.
    /// </summary>
    internal void Replace(ApiKeyRing ring) => keys = ring;
}

/// <summary>
/// Authenticates the API key a request presents (<see cref="ClientIdentity.PresentedKey"/>) and answers 401 and 403
/// as problem+json; on the Orleans Dashboard's routes the challenge is HTTP Basic, so that a browser asks for the key
/// (as the password).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, AccessPlan plan)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ImpactApiKey";
    public const string RoleClaim = "impact:role";
    private const string InvalidKey = "impact.invalid-key";

    // One warning per address a minute: a client hammering with a wrong key must not flood the log.
    private static readonly ConcurrentDictionary<string, long> LastWarned = new(StringComparer.Ordinal);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (plan.Open || ClientIdentity.PresentedKeyHash(Context) is not { } presented)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (plan.Keys.FindByHash(presented) is not { } key)
        {
            Context.Items[InvalidKey] = true;
            return Task.FromResult(AuthenticateResult.Fail("the API key is not valid"));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(ClaimsOf(key), SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var needed = Context.GetEndpoint()?.Metadata.GetMetadata<RequiredRole>()?.Role ?? ApiRole.Admin;
        var invalid = Context.Items.ContainsKey(InvalidKey);
        Warn(invalid ? "an invalid API key" : "no API key", needed);
        Response.Headers.WWWAuthenticate = IsDashboard(Request.Path)
            ? "Basic realm=\"ImpactGrains operators (any user name; an admin API key as the password)\", charset=\"UTF-8\""
            : $"ApiKey header=\"{ClientIdentity.ApiKeyHeader}\"";
        var detail = invalid
            ? "the API key is not valid: it is unknown or was revoked"
            : $"this request needs an API key with the role '{ApiRoles.Describe(needed)}' in the {ClientIdentity.ApiKeyHeader} header";
        await Problem(StatusCodes.Status401Unauthorized, "Unauthorized", detail, "https://tools.ietf.org/html/rfc9110#section-15.5.2");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var needed = Context.GetEndpoint()?.Metadata.GetMetadata<RequiredRole>()?.Role ?? ApiRole.Admin;
        var name = Context.User.Identity?.Name ?? "?";
        var held = Context.User.FindAll(RoleClaim).Select(c => c.Value).ToList();
        Warn($"the API key '{name}' (roles {string.Join(",", held)})", needed);
        await Problem(StatusCodes.Status403Forbidden, "Forbidden",
            $"the API key '{name}' has the roles {string.Join(", ", held)}; this request needs '{ApiRoles.Describe(needed)}'",
            "https://tools.ietf.org/html/rfc9110#section-15.5.4");
    }

    private Task Problem(int status, string title, string detail, string type) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: type).ExecuteAsync(Context);

    private void Warn(string who, ApiRole needed)
    {
        var address = ClientIdentity.AddressPartition(Context);
        var now = Environment.TickCount64;
        if (LastWarned.TryGetValue(address, out var last) && now - last < 60_000)
        {
            return;
        }

        LastWarned[address] = now;
        Logger.LogWarning("Refused {Method} {Path} from {Address}: {Who}, needs the role {Role} (further refusals from this address are not logged for a minute)",
            Request.Method, Request.Path.Value, address, who, ApiRoles.Describe(needed));
    }

    // A key's claims are the same on every request: built once per key (the ring is immutable, a replaced ring's keys are
    // new objects), not per request.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ApiKey, Claim[]> Claims = new();

    private static Claim[] ClaimsOf(ApiKey key) =>
        Claims.GetValue(key, k => [new(ClaimTypes.Name, k.Name), .. ApiRoles.ByName.Where(r => k.Roles.HasFlag(r.Value)).Select(r => new Claim(RoleClaim, r.Key))]);

    internal static bool IsDashboard(PathString path) => path.StartsWithSegments("/dashboard", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The policy requirement of an endpoint: its role.</summary>
public sealed record ApiRoleRequirement(ApiRole Role) : IAuthorizationRequirement;

/// <summary>
/// Grants a role when the server runs open, when the key holds it (admin holds all), or for reads when reads are
/// public and the request does not present a wrong key (a wrong key is an error worth telling its sender).
/// </summary>
public sealed class ApiRoleAuthorizationHandler(AccessPlan plan) : AuthorizationHandler<ApiRoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiRoleRequirement requirement)
    {
        var held = context.User.FindAll(ApiKeyAuthenticationHandler.RoleClaim)
            .Aggregate(ApiRole.None, (roles, claim) => roles | ApiRoles.ByName.GetValueOrDefault(claim.Value));
        var presentedKey = context.Resource is HttpContext http && ClientIdentity.PresentedKeyHash(http) is not null;
        if (plan.Open || ApiRoles.Allows(held, requirement.Role) || (plan.PublicRead && requirement.Role == ApiRole.Read && (!presentedKey || held != ApiRole.None)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
