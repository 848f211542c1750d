using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using ImpactGrains.Server.Api.Responses;
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

    private static async Task<Results<JsonAnswer<Responses.ImpactReport>, ProblemHttpResult>> GetImpact(
        string id, string? at, HttpRequest request, IEntityCatalog catalog, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await CheckEntityAsync(id, catalog, cancellationToken) is { } missing)
        {
            return missing;
        }

        if (!QueryValues.TryInstant(at, "at", time.GetUtcNow(), out var instant, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var known = KnownVersion(request, instant, 0);
        var answer = await grains.GetEntityGrain(id).GetImpactIfChangedAsync(instant, known);
        var etag = ETag(answer.Version, instant, 0);
        return answer.Report is { } report && !AnyTag(request)
            ? JsonAnswer<Responses.ImpactReport>.Ok(Responses.ImpactReport.From(report), ReadJson.Default.ImpactReport, etag, Revalidate)
            : JsonAnswer<Responses.ImpactReport>.NotModified(etag, Revalidate);
    }

    private static async Task<Results<JsonAnswer<Responses.ExplainReport>, ProblemHttpResult>> Explain(
        string id, string? at, string? limit, HttpRequest request, IEntityCatalog catalog, IGrainFactory grains, TimeProvider time,
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

        var known = KnownVersion(request, instant, count);
        var answer = await grains.GetEntityGrain(id).ExplainIfChangedAsync(instant, count, known);
        var etag = ETag(answer.Version, instant, count);
        return answer.Report is { } report && !AnyTag(request)
            ? JsonAnswer<Responses.ExplainReport>.Ok(Responses.ExplainReport.From(report), ReadJson.Default.ExplainReport, etag, Revalidate)
            : JsonAnswer<Responses.ExplainReport>.NotModified(etag, Revalidate);
    }

    // An answer may be kept, but must be revalidated (its ETag makes that a 304 while the entity is unchanged).
    private const string Revalidate = "private, no-cache";

    /// <summary>
    /// The ETag of an entity's answer: its version stamp (VersionedImpact), the instant and the limit (0 for /impact).
    /// An answer without <c>at</c> is for now, so its tag changes with every instant; with <c>at</c> it changes only
    /// when the entity does.
    /// </summary>
    internal static string ETag(long version, DateTimeOffset instant, int limit) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\"{version:x}-{instant.UtcTicks:x}-{limit:x}\"");

    /// <summary><c>If-None-Match: *</c>: any current answer will do (the entity exists, so there is one).</summary>
    private static bool AnyTag(HttpRequest request) =>
        request.Headers.IfNoneMatch.Count > 0 && request.Headers.IfNoneMatch.ToString().Trim() == "*";

    /// <summary>The version stamp of the request's If-None-Match when one of its tags is for this instant and limit.</summary>
    private static long? KnownVersion(HttpRequest request, DateTimeOffset instant, int limit)
    {
        var suffix = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"-{instant.UtcTicks:x}-{limit:x}\"");
        foreach (var header in request.Headers.IfNoneMatch)
        {
            foreach (var raw in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var tag = raw.StartsWith("W/", StringComparison.Ordinal) ? raw[2..] : raw;
                if (tag.Length > suffix.Length + 1 && tag[0] == '"' && tag.EndsWith(suffix, StringComparison.Ordinal) &&
                    long.TryParse(tag.AsSpan(1, tag.Length - suffix.Length - 1), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var version))
                {
                    return version;
                }
            }
        }

        return null;
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

        return TypedResults.Ok(await grains.GetEntityGrain(id).GetHistoryAsync(points));
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
