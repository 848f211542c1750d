using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImpactGrains.Grains;

/// <summary>The per-silo services the grains use besides storage.</summary>
public static class GrainServices
{
    /// <summary>The silo's collector of entity standings for the leaderboard partitions (<see cref="StandingReports"/>).</summary>
    public static ISiloBuilder AddStandingReports(this ISiloBuilder silo)
    {
        silo.Services.TryAddSingleton<StandingReports>();
        silo.Services.AddHostedService(services => services.GetRequiredService<StandingReports>());
        return silo;
    }
}
