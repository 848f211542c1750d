using System.Net;
using ImpactGrains.Alerting;
using ImpactGrains.Grains;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Postgres;
using Orleans.Configuration;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// The production profile: a cluster of silos sharing one PostgreSQL database for membership, reminders, grain
/// snapshots, the event log and the catalog, all through Npgsql.
/// </summary>
internal static class PostgresProfile
{
    public static void Configure(WebApplicationBuilder builder, ImpactOptions impact, ISiloBuilder silo)
    {
        var configuration = builder.Configuration;
        var database = OpenDatabase(configuration, impact);
        var connectionString = database.ConnectionString;
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<PostgresEventLog>();
        builder.Services.AddSingleton<IEventLog>(sp => sp.GetRequiredService<PostgresEventLog>());
        builder.Services.AddSingleton<IEntityCatalog, PostgresEntityCatalog>();
        builder.Services.AddSingleton<ITimelineStore, PostgresTimelineStore>();
        builder.Services.AddSingleton<IStandingStore, PostgresStandingStore>();
        builder.Services.AddSingleton<IAlertStore, PostgresAlertStore>();
        builder.Services.AddSingleton<IModelRegistry, PostgresModelRegistry>();
        builder.Services.AddSingleton<IStorageHealth>(new PostgresStorageHealth(database));

        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = configuration["Orleans:ClusterId"] ?? ImpactServices.DefaultServiceId;
            o.ServiceId = configuration["Orleans:ServiceId"] ?? ImpactServices.DefaultServiceId;
        });

        var advertised = configuration["Orleans:AdvertisedIP"] ?? "127.0.0.1";
        if (!IPAddress.TryParse(advertised, out var address))
        {
            throw new InvalidOperationException($"Orleans:AdvertisedIP: '{advertised}' is not an IP address");
        }

        silo.ConfigureEndpoints(address, configuration.GetValue("Orleans:SiloPort", 11111), configuration.GetValue("Orleans:GatewayPort", 30000),
            listenOnAnyHostAddress: configuration.GetValue("Orleans:ListenOnAnyHostAddress", false));

        // Detect a dead silo in seconds rather than Orleans' default tens of seconds: its entities are unavailable
        // until it is declared dead. Every value can still be overridden under Orleans:Membership.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 2;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(5);
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
            o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
        });
        silo.Services.Configure<ClusterMembershipOptions>(configuration.GetSection("Orleans:Membership"));
        silo.AddImpactDashboard(configuration);

        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresDatabase.OrleansInvariant;
            o.ConnectionString = connectionString;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = PostgresDatabase.OrleansInvariant;
            o.ConnectionString = connectionString;
        });
        silo.AddStandingReports();
        silo.AddEntityOwnership();
        silo.AddSnapshotStorage(PostgresDatabase.OrleansInvariant, connectionString);
    }

    public static PostgresDatabase OpenDatabase(IConfiguration configuration, ImpactOptions impact)
    {
        var connectionString = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "Impact:Storage=Postgres needs ConnectionStrings:Postgres, for example --ConnectionStrings:Postgres=\"Host=db;Database=impact;Username=impact;Password=…\"");
        }

        var database = new PostgresDatabase(connectionString);
        if (impact.MigrateOnStart)
        {
            try
            {
                database.MigrateAsync().GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                throw new InvalidOperationException($"cannot migrate the PostgreSQL schema: {ex.Message}", ex);
            }
        }

        return database;
    }

    private sealed class PostgresStorageHealth(PostgresDatabase database) : IStorageHealth
    {
        public Task<bool> IsReachableAsync(CancellationToken cancellationToken) => database.IsReachableAsync(cancellationToken);
    }
}
