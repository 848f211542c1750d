namespace ImpactGrains.Server.Security;

/// <summary>
/// What an API key may do. <see cref="Admin"/> includes the other two, so that one operator key can also read and
/// ingest; an ingestion pipeline's key should hold <see cref="Ingest"/> alone.
/// </summary>
[Flags]
public enum ApiRole
{
    None = 0,

    /// <summary>POST /api/events.</summary>
    Ingest = 1,

    /// <summary>Every GET under /api, the stream included.</summary>
    Read = 2,

    /// <summary>Entities, links, groups, alert rules, models, rescore, and the Orleans Dashboard.</summary>
    Admin = 4,
}

/// <summary>Which role each endpoint needs, decided in one place so that a new endpoint cannot be left open.</summary>
public static class ApiRoles
{
    public static readonly IReadOnlyDictionary<string, ApiRole> ByName = new Dictionary<string, ApiRole>(StringComparer.OrdinalIgnoreCase)
    {
        ["ingest"] = ApiRole.Ingest,
        ["read"] = ApiRole.Read,
        ["admin"] = ApiRole.Admin,
    };

    /// <summary>
    /// Reads are GET (and HEAD); posting events is ingestion; every other change is administration, which is also
    /// the answer for anything not listed, so that forgetting an endpoint closes it rather than opens it.
    /// </summary>
    public static ApiRole For(IEnumerable<string> methods, string? routePattern)
    {
        var list = methods.ToList();
        if (list.Count > 0 && list.All(m => HttpMethods.IsGet(m) || HttpMethods.IsHead(m)))
        {
            return ApiRole.Read;
        }

        return list.Count == 1 && HttpMethods.IsPost(list[0]) && string.Equals(routePattern?.TrimEnd('/'), "/api/events", StringComparison.OrdinalIgnoreCase)
            ? ApiRole.Ingest
            : ApiRole.Admin;
    }

    /// <summary>Whether a key with <paramref name="held"/> may do what needs <paramref name="needed"/>.</summary>
    public static bool Allows(ApiRole held, ApiRole needed) => held.HasFlag(ApiRole.Admin) || held.HasFlag(needed);

    public static string Describe(ApiRole roles) =>
        roles == ApiRole.None ? "none" : string.Join(",", ByName.Where(r => roles.HasFlag(r.Value)).Select(r => r.Key));

    public static string PolicyName(ApiRole role) => "impact-role-" + Describe(role);
}

/// <summary>Endpoint metadata: the role an endpoint needs, for the authorization policy and for the error messages.</summary>
public sealed record RequiredRole(ApiRole Role);
