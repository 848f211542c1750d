using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace ImpactGrains.Grains.Ownership;

/// <summary>Places an entity grain on its owning silo (<see cref="EntityOwnership"/>).</summary>
[GenerateSerializer, Immutable]
public sealed class EntityOwnerPlacement : PlacementStrategy;

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class EntityOwnerPlacementAttribute() : PlacementAttribute(new EntityOwnerPlacement());

internal sealed class EntityOwnerPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        if (silos.Length == 0)
        {
            return Task.FromResult(context.LocalSilo);
        }

        // An explicit target (a migration) wins: the grain works anywhere, only locality is lost.
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, silos) is { } hint)
        {
            return Task.FromResult(hint);
        }

        // A string key's bytes are its UTF-8 encoding, the same bytes ingestion hashes.
        return Task.FromResult(EntityOwnership.Owner(EntityOwnership.Hash(target.GrainIdentity.Key.AsSpan()), silos));
    }
}
