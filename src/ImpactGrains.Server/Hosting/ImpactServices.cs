using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Server.Alerts;
using ImpactGrains.Server.Api;
using ImpactGrains.Server.Demo;
using ImpactGrains.Server.Feeds;
using ImpactGrains.Server.Ingestion;

using ImpactGrains.Server.Security;

namespace ImpactGrains.Server.Hosting;

/// <summary>Wires the host together: domain, the storage profile, the Orleans silo, ingestion and the HTTP API.</summary>
public static class ImpactServices
{
    public const string DefaultServiceId = "impactgrains";

    public static ImpactOptions ReadOptions(IConfiguration configuration) =>
        configuration.GetSection(ImpactOptions.Section).Get<ImpactOptions>() ?? new ImpactOptions();

    public static WebApplicationBuilder AddImpactGrains(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var impact = ReadOptions(configuration);
        builder.AddValidatedOptions<ImpactOptions>(ImpactOptions.Section, o => o.Validate());
        builder.Services.Configure<Grains.SnapshotOptions>(configuration.GetSection("Impact:Snapshots"));
        builder.Services.Configure<Scoring.Timeline.TimelineOptions>(configuration.GetSection("Impact:Timeline"));
        // Every explanation up to the largest limit the API allows comes from memory.
        builder.Services.PostConfigure<Scoring.Timeline.TimelineOptions>(o => o.ExplainCapacity = Math.Max(o.ExplainCapacity, impact.Query.MaxLimit));
        builder.Services.Configure<Grains.LeaderboardOptions>(configuration.GetSection("Impact:Leaderboard"));
        builder.AddValidatedOptions<Grains.Ownership.DeliveryWaitOptions>("Impact:Ingestion", wait =>
            wait.ApplyWait < TimeSpan.Zero || wait.MaxUndeliveredEvents < 1
                ? $"Impact:Ingestion: ApplyWait ({wait.ApplyWait}) must not be negative and MaxUndeliveredEvents ({wait.MaxUndeliveredEvents}) must be at least 1"
                : null);
        builder.Services.Configure<DeliveryRecoveryOptions>(configuration.GetSection("Impact:DeliveryRecovery"));
        builder.Services.Configure<Scoring.Incidents.SpikeDetectorOptions>(configuration.GetSection("Impact:Spikes"));
        builder.Services.Configure<Live.LiveFeedOptions>(configuration.GetSection("Impact:Stream"));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = impact.ShutdownTimeout);
        // Orleans' activation collection; idle entity grains are what a silo holds most of, so they have their own age.
        builder.Services.Configure<Orleans.Configuration.GrainCollectionOptions>(configuration.GetSection("Orleans:GrainCollection"));
        builder.Services.Configure<Orleans.Configuration.GrainCollectionOptions>(o =>
            o.ClassSpecificCollectionAge[typeof(Grains.EntityGrain).FullName!] = impact.Entities.IdleAfter);
        builder.Services.Configure<Orleans.Configuration.GrainDirectoryOptions>(o => o.CacheSize = impact.Entities.DirectoryCacheSize);
        // The checks that refuse a bad setup run before Orleans or the database is touched.
        builder.AddImpactDashboards();
        builder.AddImpactAuth();
        builder.AddImpactSecurity();
        builder.AddImpactTrustedProxies();

        if (string.IsNullOrEmpty(configuration["urls"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:5080");
        }

        // Our own limit answers with a clear 413; Kestrel's sits above it as a backstop.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = impact.Ingestion.MaxBodyBytes + 1024 * 1024);

        builder.Services.AddImpactDomain(configuration);

        // Started before the silo: a model version that conflicts with the registry stops the server before it joins.
        builder.Services.AddHostedService<CurrentModelRegistration>();
        builder.UseOrleans(silo =>
        {
            switch (impact.Storage)
            {
                case StorageProfile.Postgres:
                    PostgresProfile.Configure(builder, impact, silo);
                    break;
                default:
                    EmbeddedProfile.Configure(builder, impact, silo);
                    break;
            }
        });

        // Ingestion and the API
        builder.Services.AddSingleton<Storage.CommitFeed>();
        builder.Services.AddSingleton<Grains.Ownership.MembershipChanges>();
        builder.Services.AddHostedService<CommitDelivery>();
        builder.Services.AddSingleton<IngestionService>();
        builder.Services.AddHostedService<DeliveryRecovery>();
        builder.Services.AddImpactAlerts(configuration);
        builder.Services.AddHostedService<DemoLoader>();
        builder.AddImpactFeeds();
        builder.Services.AddSingleton<Api.Responses.LiveLeaderboard>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Api.Responses.LiveLeaderboard>());
        builder.Services.AddSingleton<Live.LiveFeedHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Live.LiveFeedHub>());
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<StorageUnavailableHandler>();
        builder.Services.AddImpactHealthChecks();
        builder.Services.AddImpactOpenApi();
        builder.AddImpactTelemetry();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new LoggedEventJsonConverter());
            // Bodies are read by the endpoints themselves; strict numbers keep the OpenAPI schemas plain numbers, not "number or string".
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        return builder;
    }

    /// <summary>The scoring model and what is derived from it; shared by the host and the operator commands.</summary>
    public static IServiceCollection AddImpactDomain(this IServiceCollection services, IConfiguration configuration)
    {
        var model = ScoringModelConfiguration.Read(configuration.GetSection("Impact:Model"));
        services.AddSingleton(model);
        services.AddSingleton(new DecayTable(model));
        services.AddSingleton(new ImpactCalculator(model));
        services.AddSingleton(TimeProvider.System);
        return services;
    }

    public static WebApplication MapImpactApi(this WebApplication app)
    {
        // Who the client is comes first: the limits, the logs and everything after count by that address.
        app.UseImpactForwardedHeaders();
        app.UseImpactAccessLog();
        app.UseImpactSecurity();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapImpactHealthChecks();
        app.MapImpactOpenApi();
        app.MapImpactTelemetry();
        app.UseImpactAuth();
        app.MapGroup("/api")
            .RequireApiRoles()
            .MapEntities()
            .MapLinks()
            .MapEvents()
            .MapImpact()
            .MapLeaderboard()
            .MapGroups()
            .MapStream()
            .MapAlerts()
            .MapAdmin();
        app.MapImpactDashboards();
        return app;
    }
}
