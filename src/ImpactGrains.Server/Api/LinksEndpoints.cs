using System.Text.Json;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Storage;
using ImpactGrains.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <summary>Links: <c>from</c>'s direct impact flows into <c>to</c>'s inherited impact at <c>weight</c>.</summary>
public static class LinksEndpoints
{
    public static RouteGroupBuilder MapLinks(this RouteGroupBuilder api)
    {
        api.MapPut("/links", PutLink)
            .Accepts<LinkRequest>("application/json", "application/x-ndjson")
            .Produces<LinkResponse>(StatusCodes.Status201Created)
            .Produces<LinkResponse>(StatusCodes.Status200OK)
            .Operation("putLink", "Links", "Create or update a link, or many",
                "One link: 201 with Location (the to entity) when new, 200 when its weight and relation were replaced. A JSON array or NDJSON of links: each judged on its own, the valid ones written in one transaction, and the answer counts them (as PUT /api/entities does).",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        api.MapDelete("/links", DeleteLink)
            .Operation("deleteLink", "Links", "Remove a link", "404 Not found when there is no such link.", StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>Reads one link's fields; the same rules for a single PUT and for each item of a bulk one.</summary>
    private static LinkRecord? ParseLink(JsonElement body, out string? error)
    {
        var from = RequestJson.RequiredString(body, "from", EntityIds.MaxLength, out error);
        var to = from is null ? null : RequestJson.RequiredString(body, "to", EntityIds.MaxLength, out error);
        if (from is null || to is null)
        {
            return null;
        }

        foreach (var (field, value) in new[] { ("from", from), ("to", to) })
        {
            if (!EntityIds.IsValid(value))
            {
                error = $"{field}: " + EntityIds.Describe(value);
                return null;
            }
        }

        if (from == to)
        {
            error = "to: a link must join two different entities";
            return null;
        }

        if (!body.TryGetProperty("weight", out var weightElement) || weightElement.ValueKind != JsonValueKind.Number ||
            !weightElement.TryGetDouble(out var weight) || !RequestRules.IsWeight(weight))
        {
            error = $"weight: required number in (0, {RequestRules.MaxWeight}]";
            return null;
        }

        var relation = RequestJson.RequiredString(body, "relation", RequestRules.MaxRelationLength, out error);
        return relation is null ? null : new LinkRecord(from, to, weight, relation);
    }

    private static async Task<IResult> PutLink(
        HttpRequest request, IEntityCatalog catalog, IGrainFactory grains, IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        if (await IsBulkAsync(request, cancellationToken))
        {
            return await PutLinksAsync(request, catalog, grains, options.Value.Ingestion, cancellationToken);
        }

        var (document, problem) = await RequestJson.ReadObjectAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        LinkRecord link;
        using (document)
        {
            if (ParseLink(document!.RootElement, out var error) is not { } parsed)
            {
                return Problems.BadRequest(error!);
            }

            link = parsed;
        }

        foreach (var id in new[] { link.From, link.To })
        {
            if (!await catalog.ExistsAsync(id, cancellationToken))
            {
                return Problems.UnknownEntity(id);
            }
        }

        var created = await catalog.UpsertLinkAsync(link, cancellationToken);
        await Task.WhenAll(grains.GetEntityGrain(link.From).ReloadAsync(), grains.GetEntityGrain(link.To).ReloadAsync());
        var response = LinkResponse.Of(link);
        return created ? TypedResults.Created($"/api/entities/{link.To}", response) : TypedResults.Ok(response);
    }

    /// <summary>NDJSON, or JSON whose first value is an array: many links at once.</summary>
    private static async Task<bool> IsBulkAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentType is { } type && (type.StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase) ||
                                                type.StartsWith("application/ndjson", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        request.EnableBuffering();
        var first = new byte[1];
        int read;
        do
        {
            read = await request.Body.ReadAsync(first, cancellationToken);
        }
        while (read == 1 && first[0] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n');

        request.Body.Position = 0;
        return read == 1 && first[0] == (byte)'[';
    }

    private static async Task<IResult> PutLinksAsync(
        HttpRequest request, IEntityCatalog catalog, IGrainFactory grains, IngestionOptions limits, CancellationToken cancellationToken)
    {
        var (items, problem) = await BulkBody.ReadAsync(request, limits.MaxBodyBytes, limits.MaxEventsPerRequest, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var rejected = new List<BulkRejection>();
        var valid = new List<LinkRecord>();
        foreach (var item in items!)
        {
            var name = BulkBody.TextOf(item.Value, "from") is { } from && BulkBody.TextOf(item.Value, "to") is { } to ? $"{from}->{to}" : null;
            if (item.Error is { } unreadable)
            {
                rejected.Add(new BulkRejection(item.Index, name, unreadable));
            }
            else if (ParseLink(item.Value!.Value, out var error) is not { } link)
            {
                rejected.Add(new BulkRejection(item.Index, name, error!));
            }
            else if (!await catalog.ExistsAsync(link.From, cancellationToken) || !await catalog.ExistsAsync(link.To, cancellationToken))
            {
                var unknown = await catalog.ExistsAsync(link.From, cancellationToken) ? link.To : link.From;
                rejected.Add(new BulkRejection(item.Index, name, $"unknown entity '{unknown}'; register it with PUT /api/entities/{unknown}"));
            }
            else
            {
                valid.Add(link);
            }
        }

        var outcomes = await catalog.UpsertLinksAsync(valid, cancellationToken);
        var changed = valid.Where((_, i) => outcomes[i] != UpsertOutcome.Unchanged).ToList();
        await BulkBody.ReloadAsync(grains, changed.SelectMany(l => new[] { l.From, l.To }));
        return TypedResults.Ok(new BulkResult(valid.Count, rejected));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteLink(
        string? from, string? to, IEntityCatalog catalog, IGrainFactory grains, CancellationToken cancellationToken)
    {
        foreach (var (field, value) in new[] { ("from", from), ("to", to) })
        {
            if (!EntityIds.IsValid(value))
            {
                return Problems.BadRequest($"{field}: required query parameter; " + EntityIds.Describe(value));
            }
        }

        foreach (var id in new[] { from!, to! })
        {
            if (!await catalog.ExistsAsync(id, cancellationToken))
            {
                return Problems.UnknownEntity(id);
            }
        }

        if (!await catalog.DeleteLinkAsync(from!, to!, cancellationToken))
        {
            return Problems.NotFound($"there is no link from '{from}' to '{to}'");
        }

        await Task.WhenAll(grains.GetEntityGrain(from!).ReloadAsync(), grains.GetEntityGrain(to!).ReloadAsync());
        return TypedResults.NoContent();
    }
}
