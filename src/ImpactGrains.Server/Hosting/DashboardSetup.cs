using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;
using ImpactGrains.Server.Security;
using ImpactGrains.Viewer;
using Orleans.Dashboard;

namespace ImpactGrains.Server.Hosting;

/// <summary>The <c>Impact:Dashboard</c> configuration section (the Orleans Dashboard's own options are read from it too).</summary>
public sealed class DashboardSettings
{
    public const string Section = "Impact:Dashboard";

    /// <summary>Serve the Orleans Dashboard at /dashboard (and add its per-call profiling to every silo).</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>What the configuration decided, for the web application.</summary>
public sealed record DashboardPlan(bool Enabled);

/// <summary>
/// The two dashboards: the Orleans Dashboard for operators at <c>/dashboard</c> (switchable; it needs an admin API
/// key, which a browser sends as the password of HTTP Basic) and the impact viewer, static files at <c>/</c>.
/// </summary>
public static class DashboardSetup
{
    public const string RoutePrefix = "/dashboard";

    /// <summary>Where the built viewer lies, next to the server assembly (put there by the ImpactGrains.Viewer project's build).</summary>
    public static string ViewerDirectory => ViewerBundle.Directory;

    public static DashboardSettings ReadSettings(IConfiguration configuration) =>
        configuration.GetSection(DashboardSettings.Section).Get<DashboardSettings>() ?? new DashboardSettings();

    /// <summary>Decides whether the dashboard runs; refuses to start on a bad setup.</summary>
    public static WebApplicationBuilder AddImpactDashboards(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var plan = new DashboardPlan(ReadSettings(configuration).Enabled);
        builder.Services.AddSingleton(plan);
        if (!plan.Enabled)
        {
            return builder;
        }

        builder.AddValidatedOptions<DashboardOptions>(DashboardSettings.Section, o =>
            o.CounterUpdateIntervalMs < 1000 || o.HistoryLength < 1
                ? "Impact:Dashboard: CounterUpdateIntervalMs must be at least 1000 and HistoryLength at least 1"
                : null);
        return builder;
    }

    /// <summary>The Orleans Dashboard's grains and per-call profiling on this silo, unless it is switched off.</summary>
    public static ISiloBuilder AddImpactDashboard(this ISiloBuilder silo, IConfiguration configuration)
    {
        if (ReadSettings(configuration).Enabled)
        {
            silo.AddDashboard(o => configuration.GetSection(DashboardSettings.Section).Bind(o));
        }

        return silo;
    }

    /// <summary>The viewer at <c>/</c> and, when enabled, the Orleans Dashboard at <c>/dashboard</c>.</summary>
    public static WebApplication MapImpactDashboards(this WebApplication app)
    {
        app.UseImpactViewer();
        var plan = app.Services.GetRequiredService<DashboardPlan>();
        if (!plan.Enabled)
        {
            return app;
        }

        // It shows grain state and live logs: operators only.
        app.MapOrleansDashboard(routePrefix: RoutePrefix).RequireApiRole(ApiRole.Admin);
        return app;
    }

    private static void UseImpactViewer(this WebApplication app)
    {
        if (!File.Exists(Path.Combine(ViewerDirectory, "index.html")))
        {
            app.MapGet("/", () => Results.Content(ViewerPages.NotBuilt, "text/html; charset=utf-8")).ExcludeFromDescription();
            return;
        }

        var files = new PhysicalFileProvider(ViewerDirectory);
        // The viewer's files never live under /api: API requests skip both middlewares (a path check instead of a
        // file-system lookup per request, #15).
        app.UseWhen(context => !context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase), viewer => viewer
            .UseDefaultFiles(new DefaultFilesOptions { FileProvider = files })
            .UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                if (context.Context.Request.Path.StartsWithSegments("/assets"))
                {
                    // Bundles carry a content hash in their names.
                    headers.CacheControl = "public, max-age=31536000, immutable";
                }
                else
                {
                    headers.CacheControl = "no-cache";
                    headers.ContentSecurityPolicy = ViewerPages.ContentSecurityPolicy;
                    headers[HeaderNames.XFrameOptions] = "DENY";
                    headers["Referrer-Policy"] = "no-referrer";
                }
            },
        }));
    }

    /// <summary>Whether every HTTP address is on loopback (the default is 127.0.0.1:5080).</summary>
    public static bool ListensOnLoopbackOnly(IConfiguration configuration)
    {
        var addresses = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        addresses.AddRange(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        return addresses.All(IsLoopback);
    }

    private static bool IsLoopback(string url)
    {
        try
        {
            var address = BindingAddress.Parse(url);
            if (address.IsUnixPipe)
            {
                return true;
            }

            var host = address.Host.Trim('[', ']');
            return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ||
                   (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
