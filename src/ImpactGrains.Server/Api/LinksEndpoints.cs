using System.Text.Json;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImpactGrains.Server.Api;

/// <summary>Links: <c>from</c>'s direct impact flows into <c>to</c>'s inherited impact at <c>weight</c>.</summary>
public static class LinksEndpoints
{
    private const int MaxRelationLength = 64;

    public static RouteGroupBuilder MapLinks(this RouteGroupBuilder api)
    {
        api.MapPut("/links", PutLink)
            .Accepts<LinkRequest>("application/json")
            .Operation("putLink", "Links", "Create or update a link",
                "201 with Location (the to entity) when new, 200 when its weight and relation were replaced.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        api.MapDelete("/links", DeleteLink)
            .Operation("deleteLink", "Links", "Remove a link", "404 Not found when there is no such link.", StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<Results<Created<LinkResponse>, Ok<LinkResponse>, ProblemHttpResult>> PutLink(
        HttpRequest request, IEntityCatalog catalog, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var (document, problem) = await RequestJson.ReadObjectAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        LinkRecord link;
        using (document)
        {
            var body = document!.RootElement;
            var from = RequestJson.RequiredString(body, "from", 64, out var error);
            var to = from is null ? null : RequestJson.RequiredString(body, "to", 64, out error);
            if (from is null || to is null)
            {
                return Problems.BadRequest(error!);
            }

            foreach (var (field, value) in new[] { ("from", from), ("to", to) })
            {
                if (!EntityIds.IsValid(value))
                {
                    return Problems.BadRequest($"{field}: " + EntityIds.Describe(value));
                }
            }

            if (from == to)
            {
                return Problems.BadRequest("to: a link must join two different entities");
            }

            if (!body.TryGetProperty("weight", out var weightElement) || weightElement.ValueKind != JsonValueKind.Number ||
                !weightElement.TryGetDouble(out var weight) || !(weight > 0 && weight <= 1))
            {
                return Problems.BadRequest("weight: required number in (0, 1]");
            }

            var relation = RequestJson.RequiredString(body, "relation", MaxRelationLength, out error);
            if (relation is null)
            {
                return Problems.BadRequest(error!);
            }

            link = new LinkRecord(from, to, weight, relation);
        }

        foreach (var id in new[] { link.From, link.To })
        {
            if (!await catalog.ExistsAsync(id, cancellationToken))
            {
                return Problems.UnknownEntity(id);
            }
        }

        var created = await catalog.UpsertLinkAsync(link, cancellationToken);
        await Task.WhenAll(grains.GetGrain<IEntityGrain>(link.From).ReloadAsync(), grains.GetGrain<IEntityGrain>(link.To).ReloadAsync());
        var response = LinkResponse.Of(link);
        return created ? TypedResults.Created($"/api/entities/{link.To}", response) : TypedResults.Ok(response);
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

        await Task.WhenAll(grains.GetGrain<IEntityGrain>(from!).ReloadAsync(), grains.GetGrain<IEntityGrain>(to!).ReloadAsync());
        return TypedResults.NoContent();
    }
}
