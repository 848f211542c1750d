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

    /// <summary>
    /// Entity ownership (<see cref="Ownership.EntityOwnership"/>): entity grains on their owning silo, each silo writing
    /// the log for the entities it owns, ingestion routing a request's events to their owners.
    /// </summary>
    public static ISiloBuilder AddEntityOwnership(this ISiloBuilder silo)
    {
        silo.Services.AddPlacementDirector<Ownership.EntityOwnerPlacement, Ownership.EntityOwnerPlacementDirector>();
        silo.Services.AddPlacementDirector<Ownership.SiloPinnedPlacement, Ownership.SiloPinnedPlacementDirector>();
        silo.Services.TryAddSingleton<Ownership.OwnedEventAppender>();
        silo.Services.TryAddSingleton<Ownership.EventRouter>();
        return silo;
    }
}
