using ImpactGrains.Scoring.Events;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <summary>The ranking of entities by score, overall or in one category.</summary>
public static class LeaderboardEndpoints
{
    private const int DefaultLimit = 10;

    public static RouteGroupBuilder MapLeaderboard(this RouteGroupBuilder api)
    {
        api.MapGet("/leaderboard", GetLeaderboard);
        return api;
    }

    private static async Task<Results<Ok<LeaderboardResponse>, ProblemHttpResult>> GetLeaderboard(
        string? kind, string? category, string? limit, string? at, IEntityCatalog catalog, IGrainFactory grains, TimeProvider time,
        IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        EntityKind? kindFilter = null;
        if (!string.IsNullOrEmpty(kind))
        {
            if (!EntityKinds.TryParse(kind, out var parsedKind))
            {
                return Problems.BadRequest("kind: must be one of company, person, organization, product");
            }

            kindFilter = parsedKind;
        }

        if (!string.IsNullOrEmpty(category) && !EventTypes.TryParseCategory(category, out _))
        {
            return Problems.BadRequest("category: must be one of operational, market, financial, reputational");
        }

        if (!QueryValues.TryInstant(at, "at", time.GetUtcNow(), out var instant, out var error) ||
            !QueryValues.TryLimit(limit, "limit", DefaultLimit, options.Value.Query.MaxLimit, out var count, out error))
        {
            return Problems.BadRequest(error!);
        }

        var entities = (await catalog.ListEntitiesAsync(cancellationToken)).Where(e => kindFilter is null || e.Kind == kindFilter).ToList();
        var scored = await EntityScores.ReadAsync(grains, entities, instant);
        var entries = scored
            .Select(s => new LeaderboardEntry(s.Entity.Id, s.Entity.Name, s.Entity.Kind.WireName(),
                string.IsNullOrEmpty(category) ? s.Impact.Score : s.Impact.Categories[category]))
            .OrderByDescending(e => e.Score)
            .ThenBy(e => e.Entity, StringComparer.Ordinal)
            .Take(count)
            .ToList();
        return TypedResults.Ok(new LeaderboardResponse(instant, kind, category, entries));
    }
}
