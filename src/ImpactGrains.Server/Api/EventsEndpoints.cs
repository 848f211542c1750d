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
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Ingest events: one, a JSON array, or NDJSON; answers once the accepted ones are committed");
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
