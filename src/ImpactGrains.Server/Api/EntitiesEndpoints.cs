using System.Text.Json;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Storage;
using ImpactGrains.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <summary>Registering and listing entities.</summary>
public static class EntitiesEndpoints
{
    public static RouteGroupBuilder MapEntities(this RouteGroupBuilder api)
    {
        api.MapPut("/entities/{id}", PutEntity)
            .Accepts<EntityRequest>("application/json")
            .Operation("putEntity", "Entities", "Create or update an entity",
                "201 with Location when new, 200 when it existed (name, kind and tags are replaced). Entities cannot be deleted.",
                StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        api.MapPut("/entities", PutEntities)
            .Accepts<List<BulkEntityRequest>>("application/json", "application/x-ndjson")
            .Operation("putEntities", "Entities", "Create or update many entities",
                "A JSON array, or NDJSON, of entities with their ids; each is judged on its own and the valid ones are written in one transaction. Answers how many were applied and why the others were not.",
                StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/entities", ListEntities)
            .Operation("listEntities", "Entities", "List entities with their current scores, a page at a time",
                "Ordered by id, at most limit (default 1000) per page; q finds a text in the id or the name (case-insensitive), kind filters. A Link header (rel=next) names the next page.",
                StatusCodes.Status400BadRequest);
        api.MapGet("/entities/{id}", GetEntity)
            .Operation("getEntity", "Entities", "Get an entity with its links", "Every link that starts or ends at the entity.", StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>Reads one entity's fields; the same rules for a single PUT and for each item of a bulk one.</summary>
    private static EntityInput? ParseEntity(string id, JsonElement body, out string? error)
    {
        var name = RequestJson.RequiredString(body, "name", RequestRules.MaxNameLength, out error);
        if (name is null)
        {
            return null;
        }

        if (!body.TryGetProperty("kind", out var kindElement) || kindElement.ValueKind != JsonValueKind.String ||
            !EntityKinds.TryParse(kindElement.GetString(), out var kind))
        {
            error = "kind: required, one of company, person, organization, product";
            return null;
        }

        var tags = new List<string>();
        if (body.TryGetProperty("tags", out var tagsElement) && tagsElement.ValueKind != JsonValueKind.Null)
        {
            if (tagsElement.ValueKind != JsonValueKind.Array || tagsElement.GetArrayLength() > RequestRules.MaxTags)
            {
                error = $"tags: must be an array of at most {RequestRules.MaxTags} strings";
                return null;
            }

            foreach (var tag in tagsElement.EnumerateArray())
            {
                if (tag.ValueKind != JsonValueKind.String || tag.GetString() is not { Length: > 0 and <= RequestRules.MaxTagLength } text || text.Any(char.IsControl))
                {
                    error = $"tags: each tag must be a string of 1–{RequestRules.MaxTagLength} characters without control characters";
                    return null;
                }

                if (!tags.Contains(text))
                {
                    tags.Add(text);
                }
            }
        }

        return new EntityInput(id, name, kind, tags);
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

        EntityInput input;
        using (document)
        {
            if (ParseEntity(id, document!.RootElement, out var error) is not { } parsed)
            {
                return Problems.BadRequest(error!);
            }

            input = parsed;
        }

        var created = await catalog.UpsertEntityAsync(input.Id, input.Name, input.Kind, input.Tags, cancellationToken);
        if (!created)
        {
            // A new entity's grain reads its profile when it first activates; an existing one is told to reread.
            await grains.GetEntityGrain(id).ReloadAsync();
        }

        var entity = await catalog.FindEntityAsync(id, cancellationToken);
        var response = EntityResponse.From(entity!, await catalog.LinksOfAsync(id, cancellationToken));
        return created ? TypedResults.Created($"/api/entities/{id}", response) : TypedResults.Ok(response);
    }

    private static async Task<Results<Ok<BulkResult>, ProblemHttpResult>> PutEntities(
        HttpRequest request, IEntityCatalog catalog, IGrainFactory grains, IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        var limits = options.Value.Ingestion;
        var (items, problem) = await BulkBody.ReadAsync(request, limits.MaxBodyBytes, limits.MaxEventsPerRequest, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var rejected = new List<BulkRejection>();
        var valid = new List<EntityInput>();
        foreach (var item in items!)
        {
            var id = BulkBody.TextOf(item.Value, "id");
            if (item.Error is { } unreadable)
            {
                rejected.Add(new BulkRejection(item.Index, id, unreadable));
            }
            else if (!EntityIds.IsValid(id))
            {
                rejected.Add(new BulkRejection(item.Index, id, "id: " + EntityIds.Describe(id)));
            }
            else if (ParseEntity(id!, item.Value!.Value, out var error) is { } entity)
            {
                valid.Add(entity);
            }
            else
            {
                rejected.Add(new BulkRejection(item.Index, id, error!));
            }
        }

        var outcomes = await catalog.UpsertEntitiesAsync(valid, cancellationToken);
        // New entities' grains read their profiles when they first activate; changed ones are told to reread.
        await BulkBody.ReloadAsync(grains, valid.Where((_, i) => outcomes[i] == UpsertOutcome.Updated).Select(e => e.Id));
        return TypedResults.Ok(new BulkResult(valid.Count, rejected));
    }

    /// <summary>
    /// A page of entities in id order with their current scores, read from the leaderboard partitions (which hold every
    /// entity's standing) rather than from each entity's grain, so that listing never wakes idle entities. The next
    /// page is named in a Link header (rel="next"), as long as one may follow.
    /// </summary>
    private static async Task<Results<Ok<List<EntitySummary>>, ProblemHttpResult>> ListEntities(
        string? limit, string? after, string? q, string? kind, HttpContext context, IEntityCatalog catalog, IGrainFactory grains,
        TimeProvider time, IOptions<ImpactOptions> options, IOptions<Grains.LeaderboardOptions> leaderboard, CancellationToken cancellationToken)
    {
        if (!QueryValues.TryLimit(limit, "limit", Paging.DefaultPageSize, options.Value.Query.MaxLimit, out var count, out var error))
        {
            return Problems.BadRequest(error!);
        }

        EntityKind? kindFilter = null;
        if (kind is not null)
        {
            if (!EntityKinds.TryParse(kind, out var parsed))
            {
                return Problems.BadRequest("kind: one of company, person, organization, product");
            }

            kindFilter = parsed;
        }

        if (q is { Length: > RequestRules.MaxSearchLength })
        {
            return Problems.BadRequest($"q: at most {RequestRules.MaxSearchLength} characters");
        }

        var entities = await catalog.PageEntitiesAsync(after, count, string.IsNullOrWhiteSpace(q) ? null : q.Trim(), kindFilter, cancellationToken);
        var scores = await EntityScores.CurrentAsync(grains, leaderboard.Value, entities.Select(e => e.Id).ToList(), time.GetUtcNow());
        if (entities.Count == count)
        {
            Paging.LinkNext(context, "/api/entities", count, entities[^1].Id, ("q", q), ("kind", kind));
        }

        return TypedResults.Ok(entities.Select((e, i) => new EntitySummary(e.Id, e.Name, e.Kind.WireName(), scores[i])).ToList());
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
