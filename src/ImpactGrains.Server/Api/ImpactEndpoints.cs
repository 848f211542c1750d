using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <summary>Where scores are shown: an entity's impact, its explanation, its history and its events.</summary>
public static class ImpactEndpoints
{
    private const int DefaultExplainLimit = 20;
    private const int DefaultEventsLimit = 50;

    public static RouteGroupBuilder MapImpact(this RouteGroupBuilder api)
    {
        api.MapGet("/entities/{id}/impact", GetImpact)
            .Operation("getImpact", "Scores", "Get an entity's impact at an instant",
                "Score, direct and inherited impact, categories, regions, peak, 24-hour trend and event count; every score in [0, 100].",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        api.MapGet("/entities/{id}/explain", Explain)
            .Operation("explainImpact", "Scores", "Explain an entity's score", "The events behind the score at an instant, largest contribution first.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        api.MapGet("/entities/{id}/history", History)
            .Operation("getHistory", "Scores", "Get an entity's score history", "The score at from, from + step, … up to and including to.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        api.MapGet("/entities/{id}/events", Events)
            .Operation("listEntityEvents", "Events", "List an entity's events", "As stored (normalised, in UTC, with the entity's sequence), newest first.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<ProblemHttpResult?> CheckEntityAsync(string id, IEntityCatalog catalog, CancellationToken cancellationToken) =>
        EntityIds.IsValid(id) && await catalog.ExistsAsync(id, cancellationToken) ? null : Problems.UnknownEntity(id);

    private static async Task<Results<Ok<ImpactReport>, ProblemHttpResult>> GetImpact(
        string id, string? at, IEntityCatalog catalog, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await CheckEntityAsync(id, catalog, cancellationToken) is { } missing)
        {
            return missing;
        }

        if (!QueryValues.TryInstant(at, "at", time.GetUtcNow(), out var instant, out var error))
        {
            return Problems.BadRequest(error!);
        }

        return TypedResults.Ok(await grains.GetGrain<IEntityGrain>(id).GetImpactAsync(instant));
    }

    private static async Task<Results<Ok<ExplainReport>, ProblemHttpResult>> Explain(
        string id, string? at, string? limit, IEntityCatalog catalog, IGrainFactory grains, TimeProvider time,
        IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        if (await CheckEntityAsync(id, catalog, cancellationToken) is { } missing)
        {
            return missing;
        }

        if (!QueryValues.TryInstant(at, "at", time.GetUtcNow(), out var instant, out var error) ||
            !QueryValues.TryLimit(limit, "limit", DefaultExplainLimit, options.Value.Query.MaxLimit, out var count, out error))
        {
            return Problems.BadRequest(error!);
        }

        return TypedResults.Ok(await grains.GetGrain<IEntityGrain>(id).ExplainAsync(instant, count));
    }

    private static async Task<Results<Ok<HistoryReport>, ProblemHttpResult>> History(
        string id, string? from, string? to, string? step, IEntityCatalog catalog, IGrainFactory grains, TimeProvider time,
        IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        if (await CheckEntityAsync(id, catalog, cancellationToken) is { } missing)
        {
            return missing;
        }

        if (HistoryPoints.Parse(from, to, step, time.GetUtcNow(), options.Value.Query.MaxHistoryPoints, out var points) is { } error)
        {
            return Problems.BadRequest(error);
        }

        return TypedResults.Ok(await grains.GetGrain<IEntityGrain>(id).GetHistoryAsync(points));
    }

    private static async Task<Results<Ok<EventsPage>, ProblemHttpResult>> Events(
        string id, string? limit, string? before, IEntityCatalog catalog, IEventLog log, IOptions<ImpactOptions> options,
        CancellationToken cancellationToken)
    {
        if (await CheckEntityAsync(id, catalog, cancellationToken) is { } missing)
        {
            return missing;
        }

        if (!QueryValues.TryLimit(limit, "limit", DefaultEventsLimit, options.Value.Query.MaxLimit, out var count, out var error) ||
            !QueryValues.TryInstant(before, "before", DateTimeOffset.MaxValue, out var cursor, out error))
        {
            return Problems.BadRequest(error!);
        }

        var events = await log.ListEntityEventsAsync(id, string.IsNullOrEmpty(before) ? null : cursor, count, cancellationToken);
        return TypedResults.Ok(new EventsPage(id, events));
    }
}
