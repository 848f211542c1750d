using System.Text;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Live;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImpactGrains.Server.Api;

/// <summary>
/// GET /api/stream: Server-Sent Events with score changes, alerts and incidents, from whichever silo the client is
/// connected to (the feed fans out to every silo).
/// </summary>
public static class StreamEndpoints
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);
    /// <summary>The message types a client may ask for in <c>types</c>.</summary>
    public static IReadOnlyList<string> Types { get; } = ["score", "alert", "incident"];

    /// <summary>
    /// <c>types</c> as the endpoint reads it, in ECMA-262 for the document: comma-separated, entries trimmed, empty
    /// entries skipped, at least one type.
    /// </summary>
    public static string TypesPattern { get; } = $@"^(?:\s*,)*\s*(?:{string.Join("|", Types)})\s*(?:,\s*(?:(?:{string.Join("|", Types)})\s*)?)*$";

    public static RouteGroupBuilder MapStream(this RouteGroupBuilder api)
    {
        api.MapGet("/stream", Stream)
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .Operation("stream", "Stream", "Follow score changes, incidents and alerts live",
                "Server-Sent Events: score, incident, alert, and reset or dropped. Each event has an id; reconnecting with Last-Event-ID " +
                "(header, or the lastEventId query parameter) replays what followed it while the instance still holds it.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> Stream(
        HttpContext context, string? entity, string? group, string? kind, string? types, LiveFeedHub hub, IEntityCatalog catalog,
        CancellationToken cancellationToken)
    {
        // A filter that can name no entity or group is a bad request (as in DELETE /api/links), not an unknown one.
        foreach (var (name, value) in new[] { ("entity", entity), ("group", group) })
        {
            if (value is not null && !EntityIds.IsValid(value))
            {
                return Problems.BadRequest($"{name}: " + EntityIds.Describe(value));
            }
        }

        if (entity is not null && !await catalog.ExistsAsync(entity, cancellationToken))
        {
            return Problems.UnknownEntity(entity);
        }

        HashSet<string>? members = null;
        if (group is not null)
        {
            var found = await catalog.FindGroupAsync(group, cancellationToken);
            if (found is null)
            {
                return Problems.NotFound($"there is no group '{group}'");
            }

            members = found.Members.Select(m => m.Entity).ToHashSet(StringComparer.Ordinal);
        }

        EntityKind? kindFilter = null;
        if (kind is not null)
        {
            if (!EntityKinds.TryParse(kind, out var parsedKind))
            {
                return Problems.BadRequest("kind: must be one of company, person, organization, product");
            }

            kindFilter = parsedKind;
        }

        var wanted = types?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        if (wanted is not null && (wanted.Count == 0 || !wanted.IsSubsetOf(Types)))
        {
            return Problems.BadRequest("types: a comma-separated list of score, alert, incident");
        }

        var filter = new StreamFilter(wanted, entity, kindFilter, group, members);
        var lastEventId = context.Request.Headers["Last-Event-ID"].FirstOrDefault() ?? context.Request.Query["lastEventId"].FirstOrDefault();
        var client = hub.Connect(filter.Matches, lastEventId, out var resumed);
        if (client is null)
        {
            return Problems.Status(StatusCodes.Status503ServiceUnavailable, "Too many streams", "this instance serves its maximum number of streams; try another or later");
        }

        var response = context.Response;
        response.Headers.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        try
        {
            // A silo without clients does not receive the feed; the first client waits for it to (briefly), so that
            // what happens after its stream opens reaches it.
            await hub.WhenReceivingAsync(TimeSpan.FromSeconds(5), cancellationToken);
            await WriteAsync(response, "retry: 3000\n\n", cancellationToken);
            if (lastEventId is not null && !resumed)
            {
                // The messages after that id are gone (or came from another feed epoch): the client must refetch state.
                await WriteAsync(response, "event: reset\ndata: {\"reason\":\"cannot resume from that Last-Event-ID; reload the current state\"}\n\n", cancellationToken);
            }

            while (true)
            {
                bool more;
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    wait.CancelAfter(Heartbeat);
                    try
                    {
                        more = await client.Messages.WaitToReadAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // Quiet for a while: a comment keeps proxies from closing the connection.
                        await WriteAsync(response, ": keep-alive\n\n", cancellationToken);
                        continue;
                    }
                }

                if (!more)
                {
                    if (client.CloseReason is { } reason)
                    {
                        await WriteAsync(response, $"event: dropped\ndata: {System.Text.Json.JsonSerializer.Serialize(new { reason })}\n\n", cancellationToken);
                    }

                    break;
                }

                var text = new StringBuilder();
                while (client.Messages.TryRead(out var message))
                {
                    text.Append("id: ").Append(LiveFeedHub.FormatId(message)).Append('\n')
                        .Append("event: ").Append(message.Type).Append('\n')
                        .Append("data: ").Append(LiveEventJson.ToJson(message.Event)).Append("\n\n");
                }

                await WriteAsync(response, text.ToString(), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // the client went away
        }
        finally
        {
            client.Detach();
        }

        return TypedResults.Empty;
    }

    /// <summary>A client's filters, each already parsed and checked at the endpoint; null means any.</summary>
    private sealed record StreamFilter(HashSet<string>? Types, string? Entity, EntityKind? Kind, string? Group, HashSet<string>? Members)
    {
        // The feed's messages carry the kind by its wire name: the enum's name, taken once rather than per message.
        private readonly string? kindName = Kind?.WireName();

        public bool Matches(LiveMessage m) =>
            (Types is null || Types.Contains(m.Type)) &&
            (Entity is null || m.Entity == Entity) &&
            (kindName is null || m.EntityKind == kindName) &&
            (Members is null || m.Group == Group || (m.Entity is not null && Members.Contains(m.Entity)));
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.WriteAsync(text, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
