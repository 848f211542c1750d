using ImpactGrains.Abstractions;
using ImpactGrains.Grains;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using ImpactGrains.Server.Api.Responses;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <summary>
/// The ranking of entities by score, overall, in one category or in one region, optionally of one kind. The live
/// ranking (now, up to the partitions' candidate count) comes from the leaderboard grain, fed by the partitions; a
/// ranking as of another instant, or a longer one, asks every entity's grain.
/// </summary>
public static class LeaderboardEndpoints
{
    private const int DefaultLimit = 10;

    public static RouteGroupBuilder MapLeaderboard(this RouteGroupBuilder api)
    {
        api.MapGet("/leaderboard", GetLeaderboard)
            .Operation("getLeaderboard", "Leaderboard", "Rank entities by score",
                "Overall, by a category's or by a region's score, optionally of one kind. Without at, the live ranking.", StatusCodes.Status400BadRequest);
        return api;
    }

    private static async Task<Results<JsonAnswer<LeaderboardResponse>, ProblemHttpResult>> GetLeaderboard(
        string? kind, string? category, string? region, string? limit, string? at, HttpRequest request, IEntityCatalog catalog, IGrainFactory grains,
        TimeProvider time, IOptions<ImpactOptions> options, IOptions<LeaderboardOptions> live, LiveLeaderboard copy, CancellationToken cancellationToken)
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

        EventCategory? categoryFilter = null;
        if (!string.IsNullOrEmpty(category))
        {
            if (!EventTypes.TryParseCategory(category, out var parsedCategory))
            {
                return Problems.BadRequest("category: must be one of operational, market, financial, reputational");
            }

            categoryFilter = parsedCategory;
        }

        string? regionCode = null;
        if (!string.IsNullOrEmpty(region))
        {
            if (!Regions.TryNormalize(region, out var normalized))
            {
                return Problems.BadRequest("region: must be an ISO 3166-1 alpha-2 code (such as US or DE) or GLOBAL");
            }

            regionCode = normalized;
        }

        if (categoryFilter is not null && regionCode is not null)
        {
            return Problems.BadRequest("category, region: rank by a category or by a region, not both");
        }

        if (!QueryValues.TryInstant(at, "at", time.GetUtcNow(), out var instant, out var error) ||
            !QueryValues.TryLimit(limit, "limit", DefaultLimit, options.Value.Query.MaxLimit, out var count, out error))
        {
            return Problems.BadRequest(error!);
        }

        // The answer names the category by its wire name, which is the text the query gave (names parse exactly).
        var categoryName = categoryFilter?.WireName();
        if (string.IsNullOrEmpty(at) && count <= live.Value.Candidates)
        {
            // From this silo's copy of the published standings, ranked at the start of the publish interval: no grain call.
            if (await copy.FindAsync(kind, kindFilter, categoryFilter, regionCode, count) is { } answer)
            {
                return JsonAnswer<LeaderboardResponse>.Matches(request, answer.ETag)
                    ? JsonAnswer<LeaderboardResponse>.NotModified(answer.ETag, copy.CacheControl)
                    : JsonAnswer<LeaderboardResponse>.Ok(answer.Utf8, answer.ETag, copy.CacheControl);
            }

            // The leaderboard grain could not give the copy (it is moving): asked directly, as of now.
            var top = await grains.GetGrain<ILeaderboardGrain>(0).TopAsync((EntityKindCode?)kindFilter, (EventCategoryCode?)categoryFilter, regionCode, count, instant);
            return JsonAnswer<LeaderboardResponse>.Ok(new LeaderboardResponse(instant, kind, categoryName, regionCode,
                top.Select(t => new LeaderboardEntry(t.Entity, t.Name, ((EntityKind)t.Kind).WireName(), t.Score)).ToList()), ReadJson.Default.LeaderboardResponse);
        }

        var entities = (await catalog.ListEntitiesAsync(cancellationToken)).Where(e => kindFilter is null || e.Kind == kindFilter).ToList();
        var scored = await EntityScores.ReadAsync(grains, entities, instant);
        var entries = scored
            .Select(s => new LeaderboardEntry(s.Entity.Id, s.Entity.Name, s.Entity.Kind.WireName(),
                regionCode is not null ? s.Impact.Regions.GetValueOrDefault(regionCode)
                : categoryName is not null ? s.Impact.Categories[categoryName] : s.Impact.Score))
            .Where(e => e.Score > 0)
            .OrderByDescending(e => e.Score)
            .ThenBy(e => e.Entity, StringComparer.Ordinal)
            .Take(count)
            .ToList();
        return JsonAnswer<LeaderboardResponse>.Ok(new LeaderboardResponse(instant, kind, categoryName, regionCode, entries), ReadJson.Default.LeaderboardResponse);
    }
}
