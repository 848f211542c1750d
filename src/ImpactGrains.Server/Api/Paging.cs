using System.Globalization;

namespace ImpactGrains.Server.Api;

/// <summary>
/// Cursor paging for the list routes (entities, groups, alert rules): a full page names the next one in a Link header
/// (RFC 8288, rel="next") with the same query and the cursor of its last item; the last page has none.
/// </summary>
internal static class Paging
{
    public const int DefaultPageSize = 1000;

    public static void LinkNext(HttpContext context, string path, int limit, string after, params (string Name, string? Value)[] query)
    {
        var parameters = new Dictionary<string, string?> { ["limit"] = limit.ToString(CultureInfo.InvariantCulture), ["after"] = after };
        foreach (var (name, value) in query.Where(p => p.Value is not null))
        {
            parameters[name] = value;
        }

        context.Response.Headers.Append("Link", $"<{path}{QueryString.Create(parameters)}>; rel=\"next\"");
    }
}
