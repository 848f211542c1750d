using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Ingestion;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <summary>Where events enter: POST /api/events.</summary>
public static class EventsEndpoints
{
    public static RouteGroupBuilder MapEvents(this RouteGroupBuilder api)
    {
        api.MapPost("/events", PostEvents)
            .Accepts<EventRequest>("application/json", "application/x-ndjson")
            .Operation("postEvents", "Events", "Ingest events: one, a JSON array, or NDJSON",
                "Answers once the accepted events are committed to the log. Each event is judged on its own: a refused one is listed in " +
                "rejected and the others are stored. Ids are idempotent: a repeated id counts as a duplicate and changes nothing. " +
                "Only a body that cannot be read at all is refused whole (400, 413, 415), and a 503 stores nothing.",
                StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        return api;
    }

    private static async Task<Results<Ok<IngestionResult>, ProblemHttpResult>> PostEvents(
        HttpContext context, IngestionService ingestion, IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        var (events, refusal) = await EventBodyReader.ReadAsync(context.Request, options.Value.Ingestion, ingestion.LatestAllowed, cancellationToken);
        if (refusal is not null)
        {
            return Problems.Status(refusal.StatusCode, refusal.Title, refusal.Detail);
        }

        // A store that cannot commit throws; StorageUnavailableHandler answers 503 with Retry-After.
        return TypedResults.Ok(await ingestion.IngestAsync(events!, cancellationToken));
    }
}
