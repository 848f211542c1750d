using System.Text.Json;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImpactGrains.Server.Api;

/// <summary>Registering and listing entities.</summary>
public static class EntitiesEndpoints
{
    private const int MaxNameLength = 200;
    private const int MaxTags = 32;
    private const int MaxTagLength = 64;

    public static RouteGroupBuilder MapEntities(this RouteGroupBuilder api)
    {
        api.MapPut("/entities/{id}", PutEntity)
            .Accepts<EntityRequest>("application/json")
            .Operation("putEntity", "Entities", "Create or update an entity",
                "201 with Location when new, 200 when it existed (name, kind and tags are replaced). Entities cannot be deleted.",
                StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/entities", ListEntities)
            .Operation("listEntities", "Entities", "List every entity with its current score", "Ordered by id.");
        api.MapGet("/entities/{id}", GetEntity)
            .Operation("getEntity", "Entities", "Get an entity with its links", "Every link that starts or ends at the entity.", StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<Results<Created<EntityResponse>, Ok<EntityResponse>, ProblemHttpResult>> PutEntity(
        string id, HttpRequest request, IEntityCatalog catalog, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!EntityIds.IsValid(id))
        {
            return Problems.BadRequest("id: " + EntityIds.Describe(id));
        }

        var (document, problem) = await RequestJson.ReadObjectAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        using (document)
        {
            var body = document!.RootElement;
            var name = RequestJson.RequiredString(body, "name", MaxNameLength, out var error);
            if (name is null)
            {
                return Problems.BadRequest(error!);
            }

            if (!body.TryGetProperty("kind", out var kindElement) || kindElement.ValueKind != JsonValueKind.String ||
                !EntityKinds.TryParse(kindElement.GetString(), out var kind))
            {
                return Problems.BadRequest("kind: required, one of company, person, organization, product");
            }

            var tags = new List<string>();
            if (body.TryGetProperty("tags", out var tagsElement) && tagsElement.ValueKind != JsonValueKind.Null)
            {
                if (tagsElement.ValueKind != JsonValueKind.Array || tagsElement.GetArrayLength() > MaxTags)
                {
                    return Problems.BadRequest($"tags: must be an array of at most {MaxTags} strings");
                }

                foreach (var tag in tagsElement.EnumerateArray())
                {
                    if (tag.ValueKind != JsonValueKind.String || tag.GetString() is not { Length: > 0 and <= MaxTagLength } text || text.Any(char.IsControl))
                    {
                        return Problems.BadRequest($"tags: each tag must be a string of 1–{MaxTagLength} characters without control characters");
                    }

                    if (!tags.Contains(text))
                    {
                        tags.Add(text);
                    }
                }
            }

            var created = await catalog.UpsertEntityAsync(id, name, kind, tags, cancellationToken);
            if (!created)
            {
                // A new entity's grain reads its profile when it first activates; an existing one is told to reread.
                await grains.GetGrain<IEntityGrain>(id).ReloadAsync();
            }

            var entity = await catalog.FindEntityAsync(id, cancellationToken);
            var response = EntityResponse.From(entity!, await catalog.LinksOfAsync(id, cancellationToken));
            return created ? TypedResults.Created($"/api/entities/{id}", response) : TypedResults.Ok(response);
        }
    }

    private static async Task<Ok<List<EntitySummary>>> ListEntities(IEntityCatalog catalog, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        var entities = await catalog.ListEntitiesAsync(cancellationToken);
        var scored = await EntityScores.ReadAsync(grains, entities, time.GetUtcNow());
        return TypedResults.Ok(scored.Select(s => new EntitySummary(s.Entity.Id, s.Entity.Name, s.Entity.Kind.WireName(), s.Impact.Score)).ToList());
    }

    private static async Task<Results<Ok<EntityResponse>, ProblemHttpResult>> GetEntity(string id, IEntityCatalog catalog, CancellationToken cancellationToken)
    {
        var entity = EntityIds.IsValid(id) ? await catalog.FindEntityAsync(id, cancellationToken) : null;
        if (entity is null)
        {
            return Problems.UnknownEntity(id);
        }

        return TypedResults.Ok(EntityResponse.From(entity, await catalog.LinksOfAsync(id, cancellationToken)));
    }
}
