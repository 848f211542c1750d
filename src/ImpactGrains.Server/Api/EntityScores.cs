using ImpactGrains.Abstractions;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Api;

/// <summary>Reads many entities' impact at one instant, all grain calls in parallel.</summary>
internal static class EntityScores
{
    /// <summary>
    /// Current scores from the leaderboard partitions, one call per partition: each holds the standing its entities
    /// last reported (an entity without events has none, and scores 0), exact for any instant after the report.
    /// </summary>
    public static async Task<IReadOnlyList<double>> CurrentAsync(IGrainFactory grains, Grains.LeaderboardOptions leaderboard, IReadOnlyList<string> entities, DateTimeOffset at)
    {
        var scores = new double[entities.Count];
        var byPartition = entities.Select((id, i) => (Id: id, Index: i)).GroupBy(e => leaderboard.PartitionOf(e.Id)).ToList();
        var answers = await Task.WhenAll(byPartition.Select(g =>
            grains.GetGrain<ILeaderboardPartitionGrain>(g.Key).ScoresAsync(g.Select(e => e.Id).ToList(), at)));
        for (var p = 0; p < byPartition.Count; p++)
        {
            var members = byPartition[p].ToList();
            for (var i = 0; i < members.Count; i++)
            {
                scores[members[i].Index] = answers[p][i];
            }
        }

        return scores;
    }

    public static async Task<IReadOnlyList<(EntityRecord Entity, ImpactReport Impact)>> ReadAsync(
        IGrainFactory grains, IReadOnlyList<EntityRecord> entities, DateTimeOffset at)
    {
        var reports = await Task.WhenAll(entities.Select(e => grains.GetEntityGrain(e.Id).GetImpactAsync(at)));
        return entities.Select((e, i) => (e, reports[i])).ToList();
    }
}
