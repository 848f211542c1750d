using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Ingestion;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <summary>Where events enter: POST /api/events.</summary>
public static class EventsEndpoints
{
    /// <summary>What a client should wait before retrying when the log cannot commit.</summary>
    public const int RetryAfterSeconds = 5;

    public static RouteGroupBuilder MapEvents(this RouteGroupBuilder api)
    {
        api.MapPost("/events", PostEvents);
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

        try
        {
            return TypedResults.Ok(await ingestion.IngestAsync(events!, cancellationToken));
        }
        catch (Exception ex) when (ex is EventLogUnavailableException or System.Data.Common.DbException)
        {
            // Nothing of this request was committed; it is safe to send it again.
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Status(StatusCodes.Status503ServiceUnavailable, "Event log unavailable",
                $"the event log is unavailable ({ex.Message}); nothing from this request was stored, retry after {RetryAfterSeconds} seconds");
        }
    }
}
