using ImpactGrains.Alerting;
using ImpactGrains.Grains;

namespace ImpactGrains.Server.Alerts;

/// <summary>Alerting in the host: evaluation and webhook delivery, fed by the live feed of the silo it runs in.</summary>
public static class AlertHosting
{
    public static IServiceCollection AddImpactAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAlerting(configuration);
        services.AddSingleton<AlertFeedListener>();
        services.AddSingleton<ILiveFeedListener>(sp => sp.GetRequiredService<AlertFeedListener>());
        services.AddHostedService(sp => sp.GetRequiredService<AlertFeedListener>());
        return services;
    }
}
