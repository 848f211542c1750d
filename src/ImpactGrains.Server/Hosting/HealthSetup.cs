using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// /health/live (the process answers) and /health/ready (this silo is active in the cluster and its storage answers),
/// the endpoints Kubernetes' probes use.
/// </summary>
public static class HealthSetup
{
    /// <summary>The tag of the checks /health/ready runs (the feed adds its own when configured).</summary>
    internal const string Ready = "ready";

    public static IServiceCollection AddImpactHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<SiloActiveCheck>("silo", tags: [Ready])
            .AddCheck<StorageReachableCheck>("storage", tags: [Ready]);
        return services;
    }

    public static WebApplication MapImpactHealthChecks(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync });
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }

    /// <summary>Healthy once this silo is Active in the membership table; not while joining or shutting down.</summary>
    private sealed class SiloActiveCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            return Task.FromResult(status == SiloStatus.Active
                ? HealthCheckResult.Healthy($"silo {silo.SiloAddress} is active")
                : HealthCheckResult.Unhealthy($"silo {silo.SiloAddress} is {status}"));
        }
    }

    private sealed class StorageReachableCheck(IStorageHealth storage) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            var reachable = await storage.IsReachableAsync(timeout.Token);
            OperationsMetrics.StorageChecked(reachable);
            return reachable
                ? HealthCheckResult.Healthy("the database answers")
                : HealthCheckResult.Unhealthy("the database does not answer");
        }
    }
}
