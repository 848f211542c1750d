using ImpactGrains.Grains;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Server.Api;
using ImpactGrains.Server.Demo;
using ImpactGrains.Server.Ingestion;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Sqlite;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace ImpactGrains.Server.Hosting;

/// <summary>Wires the host together: domain, storage, the Orleans silo, ingestion and the HTTP API.</summary>
public static class ImpactServices
{
    public const string ServiceId = "impactgrains";

    public static WebApplicationBuilder AddImpactGrains(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var impact = configuration.GetSection(ImpactOptions.Section).Get<ImpactOptions>() ?? new ImpactOptions();
        builder.Services.Configure<ImpactOptions>(configuration.GetSection(ImpactOptions.Section));
        builder.Services.Configure<SnapshotOptions>(configuration.GetSection("Impact:Snapshots"));

        if (string.IsNullOrEmpty(configuration["urls"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:5080");
        }

        // Our own limit answers with a clear 413; Kestrel's sits above it as a backstop.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = impact.Ingestion.MaxBodyBytes + 1024 * 1024);

        // Domain
        var model = ScoringModelConfiguration.Read(configuration.GetSection("Impact:Model"));
        builder.Services.AddSingleton(model);
        builder.Services.AddSingleton(new DecayTable(model));
        builder.Services.AddSingleton(new ImpactCalculator(model));
        builder.Services.AddSingleton(TimeProvider.System);

        // Storage: the embedded profile. The schema must exist before the silo reads its queries.
        var database = new SqliteDatabase(impact.DataDirectory);
        database.Migrate();
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<SqliteEventLog>();
        builder.Services.AddSingleton<IEventLog>(sp => sp.GetRequiredService<SqliteEventLog>());
        builder.Services.AddSingleton<IEntityCatalog, SqliteEntityCatalog>();

        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(
                siloPort: configuration.GetValue("Orleans:SiloPort", 11111),
                gatewayPort: configuration.GetValue("Orleans:GatewayPort", 30000),
                serviceId: ServiceId,
                clusterId: "local");
            silo.AddAdoNetGrainStorage(GrainStorageNames.Snapshots, options => options.Configure<Serializer>((o, serializer) =>
            {
                o.Invariant = SqliteDatabase.OrleansInvariant;
                o.ConnectionString = database.SnapshotConnectionString;
                // Orleans' binary serializer: snapshots are lists of events, and JSON would triple their size.
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
        });

        // Ingestion and the API
        builder.Services.AddSingleton<GrainDelivery>();
        builder.Services.AddSingleton<IngestionService>();
        builder.Services.AddHostedService<DemoLoader>();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new LoggedEventJsonConverter()));
        return builder;
    }

    public static WebApplication MapImpactApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapGroup("/api")
            .MapEntities()
            .MapLinks()
            .MapEvents()
            .MapImpact()
            .MapLeaderboard();
        return app;
    }
}
