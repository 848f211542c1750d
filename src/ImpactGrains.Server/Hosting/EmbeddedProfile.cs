using ImpactGrains.Alerting;
using ImpactGrains.Grains;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Sqlite;

namespace ImpactGrains.Server.Hosting;

/// <summary>The embedded default: one silo on localhost clustering, the log and snapshots in SQLite files.</summary>
internal static class EmbeddedProfile
{
    public static void Configure(WebApplicationBuilder builder, ImpactOptions impact, ISiloBuilder silo)
    {
        var configuration = builder.Configuration;
        var database = OpenDatabase(impact);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<SqliteEventLog>();
        builder.Services.AddSingleton<IEventLog>(sp => sp.GetRequiredService<SqliteEventLog>());
        builder.Services.AddSingleton<IEntityCatalog, SqliteEntityCatalog>();
        builder.Services.AddSingleton<ITimelineStore, SqliteTimelineStore>();
        builder.Services.AddSingleton<IStandingStore, SqliteStandingStore>();
        builder.Services.AddSingleton<IAlertStore, SqliteAlertStore>();
        builder.Services.AddSingleton<IModelRegistry, SqliteModelRegistry>();
        builder.Services.AddSingleton<IStorageHealth>(new SqliteStorageHealth(database));

        silo.UseLocalhostClustering(
            siloPort: configuration.GetValue("Orleans:SiloPort", 11111),
            gatewayPort: configuration.GetValue("Orleans:GatewayPort", 30000),
            serviceId: configuration["Orleans:ServiceId"] ?? ImpactServices.DefaultServiceId,
            clusterId: configuration["Orleans:ClusterId"] ?? "local");
        silo.AddImpactDashboard(configuration);
        silo.AddStandingReports();
        silo.AddEntityOwnership();
        silo.AddSnapshotStorage(SqliteDatabase.OrleansInvariant, database.SnapshotConnectionString);
    }

    /// <summary>The schema must exist before the silo reads its queries.</summary>
    public static SqliteDatabase OpenDatabase(ImpactOptions impact)
    {
        // Start-up has refused a bad size already (ImpactOptions.Validate); the operator commands come here directly.
        if (impact.LogCacheProblem() is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        var database = new SqliteDatabase(impact.DataDirectory) { LogCacheKiB = impact.LogCacheMiB * 1024 };
        database.Migrate();
        return database;
    }

    private sealed class SqliteStorageHealth(SqliteDatabase database) : IStorageHealth
    {
        public Task<bool> IsReachableAsync(CancellationToken cancellationToken) => database.IsReachableAsync(cancellationToken);
    }
}
