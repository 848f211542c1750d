using ImpactGrains.Server.Hosting;
using Microsoft.AspNetCore.Authorization;

namespace ImpactGrains.Server.Security;

/// <summary>
/// API keys and roles (docs/security.md). The embedded default listening on loopback only may run open when no key is
/// configured, and says so at start-up; every other setup refuses to start without keys.
/// </summary>
public static class AuthSetup
{
    public static WebApplicationBuilder AddImpactAuth(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        // The keys' names, roles and hashes: refused now if bad, and validated again on start like every option.
        builder.AddValidatedOptions<AuthOptions>(AuthOptions.Section, o => o.Validate());
        var options = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var configured = ApiKeyRing.Parse(options, out _);

        var ring = configured;
        KeyDirectoryReading? reading = null;
        if (!string.IsNullOrWhiteSpace(options.KeysDirectory))
        {
            ring = ApiKeyDirectoryWatcher.ReadInitial(options.KeysDirectory, configured, out reading, out var error);
            if (error is not null)
            {
                StartupRefusal.Exit(error);
            }

            // A keys directory means keys are wanted: never open, and a start with none to admit is a mistake.
            if (ring.Count == 0)
            {
                var first = reading!.Problems.FirstOrDefault() is { } problem ? $" (first problem: {problem.Subject} {problem.Message})" : "";
                StartupRefusal.Exit($"{AuthOptions.Section}:KeysDirectory: '{options.KeysDirectory}' holds no valid key{first}, and none is configured in {AuthOptions.Section}:Keys; " +
                                    "add one (ImpactGrains.Server keys create prints its two entries, one file each)");
            }
        }

        var embeddedOnLoopback = ImpactServices.ReadOptions(configuration).Storage == StorageProfile.Sqlite &&
                                 DashboardSetup.ListensOnLoopbackOnly(configuration);
        if (ring.Count == 0 && !embeddedOnLoopback)
        {
            StartupRefusal.Exit("no API keys are configured, and only the embedded profile listening on loopback may run without them: " +
                   $"create one with 'ImpactGrains.Server keys create --name operator --roles admin' and configure the lines it prints ({AuthOptions.Section}:Keys)");
        }

        var plan = new AccessPlan(open: ring.Count == 0, ring, options.PublicRead);
        builder.Services.AddSingleton(plan);
        if (reading is not null)
        {
            var watcher = ApiKeyDirectoryWatcher.Create(options.KeysDirectory!, configured, plan, reading);
            builder.Services.AddSingleton(watcher);
            builder.Services.AddHostedService(sp => sp.GetRequiredService<ApiKeyDirectoryWatcher>());
        }

        builder.Services.AddSingleton<IAuthorizationHandler, ApiRoleAuthorizationHandler>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        var policies = builder.Services.AddAuthorizationBuilder();
        foreach (var role in ApiRoles.ByName.Values)
        {
            policies.AddPolicy(ApiRoles.PolicyName(role), p => p.AddRequirements(new ApiRoleRequirement(role)));
        }

        return builder;
    }

    /// <summary>Authentication and authorization in the pipeline, and the start-up notice of how requests are admitted.</summary>
    public static WebApplication UseImpactAuth(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        var plan = app.Services.GetRequiredService<AccessPlan>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ImpactGrains.Security");
        if (plan.Open)
        {
            logger.LogWarning(
                "OPEN ACCESS: no API keys are configured, so anyone who can reach this loopback address may write events, change " +
                "entities and open the Orleans Dashboard. This is allowed only for the embedded profile on loopback; configure keys " +
                "({Section}:Keys, see docs/security.md) before sharing this instance", AuthOptions.Section);
        }
        else
        {
            var watcher = app.Services.GetService<ApiKeyDirectoryWatcher>();
            logger.LogInformation("API keys required: {Count} admitted ({Keys}); keys directory {KeysDirectory}; public read {PublicRead}",
                plan.Keys.Count, plan.Keys.Describe(), watcher is null ? "none" : $"{watcher.Directory}, read every {ApiKeyDirectoryWatcher.PollInterval.TotalSeconds:0} s",
                plan.PublicRead ? "on" : "off");
            watcher?.Attach(app.Services.GetRequiredService<ILoggerFactory>());
        }

        return app;
    }

    /// <summary>Gives every endpoint of the group the role <see cref="ApiRoles.For"/> decides for it.</summary>
    public static TBuilder RequireApiRoles<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods);
            var role = ApiRoles.For(methods, (endpoint as RouteEndpointBuilder)?.RoutePattern.RawText);
            endpoint.Metadata.Add(new RequiredRole(role));
            endpoint.Metadata.Add(new AuthorizeAttribute(ApiRoles.PolicyName(role)));
        });
        return builder;
    }

    /// <summary>The same for endpoints that all need one role (the Orleans Dashboard: admin).</summary>
    public static TBuilder RequireApiRole<TBuilder>(this TBuilder builder, ApiRole role) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredRole(role)).RequireAuthorization(ApiRoles.PolicyName(role));
}
