using ImpactGrains.Server.Hosting;
using Microsoft.Net.Http.Headers;

namespace ImpactGrains.Server.Security;

/// <summary>
/// Headers on every HTTP response that passes through the application (Kestrel's own answers to unparseable requests
/// do not): no MIME sniffing, no referrer, no framing, a separate browsing context group, and a Content-Security-Policy
/// that lets an API response load nothing. A page that sets its own policy keeps it (the viewer at <c>/</c>, see
/// <see cref="ViewerPages.ContentSecurityPolicy"/>); the Scalar reference and the Orleans Dashboard, which run their
/// own scripts and styles, get only <c>frame-ancestors 'none'</c> and <c>object-src 'none'</c>.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>For JSON, problem+json, Server-Sent Events and every other non-page response.</summary>
    public const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

    /// <summary>For the third-party pages at /api/docs and /dashboard.</summary>
    public const string PageContentSecurityPolicy = "frame-ancestors 'none'; object-src 'none'";

    public static IApplicationBuilder UseImpactSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            // At the start of the response, so that answers written by later middleware (errors included) carry them.
            context.Response.OnStarting(Apply, context);
            return next(context);
        });

    /// <summary>The policy a path gets when its handler did not set one.</summary>
    public static string ContentSecurityPolicyFor(PathString path) =>
        path.StartsWithSegments("/api/docs", StringComparison.OrdinalIgnoreCase) ||
        path.StartsWithSegments(DashboardSetup.RoutePrefix, StringComparison.OrdinalIgnoreCase)
            ? PageContentSecurityPolicy
            : ApiContentSecurityPolicy;

    private static Task Apply(object state)
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers[HeaderNames.XFrameOptions] = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        if (!headers.ContainsKey(HeaderNames.ContentSecurityPolicy))
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicyFor(context.Request.Path);
        }

        return Task.CompletedTask;
    }
}
