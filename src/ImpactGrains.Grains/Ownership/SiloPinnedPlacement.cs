using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace ImpactGrains.Grains.Ownership;

/// <summary>
/// Places a grain keyed by a silo address (<see cref="SiloAddress.ToParsableString"/>) on that silo: how a request
/// reaches one silo's own services. Should that silo not be a compatible one (it left, or this silo does not know it
/// yet), the grain goes to the caller's silo; it notices and steps aside (see <see cref="EventWriterGrain"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed class SiloPinnedPlacement : PlacementStrategy;

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(new SiloPinnedPlacement());

internal sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var wanted = SiloAddress.FromParsableString(target.GrainIdentity.Key.ToString()!);
        return Task.FromResult(Array.IndexOf(context.GetCompatibleSilos(target), wanted) >= 0 ? wanted : context.LocalSilo);
    }
}
