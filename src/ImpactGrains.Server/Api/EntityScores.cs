using ImpactGrains.Abstractions;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Api;

/// <summary>Reads many entities' impact at one instant, all grain calls in parallel.</summary>
internal static class EntityScores
{
    public static async Task<IReadOnlyList<(EntityRecord Entity, ImpactReport Impact)>> ReadAsync(
        IGrainFactory grains, IReadOnlyList<EntityRecord> entities, DateTimeOffset at)
    {
        var reports = await Task.WhenAll(entities.Select(e => grains.GetGrain<IEntityGrain>(e.Id).GetImpactAsync(at)));
        return entities.Select((e, i) => (e, reports[i])).ToList();
    }
}
