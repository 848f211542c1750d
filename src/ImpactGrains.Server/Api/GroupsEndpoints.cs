using System.Text.Json;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Groups;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <summary>Groups (portfolios): define them, and read their combined impact, history and explanation.</summary>
public static class GroupsEndpoints
{
    public sealed record GroupResponse(string Id, string Name, string Method, IReadOnlyList<GroupMember> Members, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public static GroupResponse Of(GroupRecord g) => new(g.Id, g.Name, g.Method.WireName(), g.Members, g.CreatedAt, g.UpdatedAt);
    }

    public static RouteGroupBuilder MapGroups(this RouteGroupBuilder api)
    {
        api.MapPut("/groups/{id}", PutGroup)
            .Accepts<GroupRequest>("application/json")
            .Operation("putGroup", "Groups", "Create or replace a group", "201 with Location when created, 200 when replaced.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/groups", ListGroups)
            .Operation("listGroups", "Groups", "List groups' definitions, a page at a time",
                "Groups and their members with weights, in id order, at most limit (default 1000) per page; a Link header (rel=next) names the next page.",
                StatusCodes.Status400BadRequest);
        api.MapGet("/groups/{id}", GetGroup)
            .Operation("getGroup", "Groups", "Get a group's definition", "Its name, method and members.", StatusCodes.Status404NotFound);
        api.MapGet("/groups/{id}/impact", Impact)
            .Operation("getGroupImpact", "Groups", "Get a group's combined impact", "The group's score by its method, and each member's score and share.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        api.MapGet("/groups/{id}/explain", Explain)
            .Operation("explainGroup", "Groups", "Explain a group's score", "Each member's explanation weighted by the member's share, largest first.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        api.MapGet("/groups/{id}/history", History)
            .Operation("getGroupHistory", "Groups", "Get a group's score history", "As for an entity: the group's score at each point.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<Results<Created<GroupResponse>, Ok<GroupResponse>, ProblemHttpResult>> PutGroup(
        string id, HttpRequest request, IEntityCatalog catalog, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!EntityIds.IsValid(id))
        {
            return Problems.BadRequest("id: " + EntityIds.Describe(id).Replace("entity id", "group id"));
        }

        var (document, problem) = await RequestJson.ReadObjectAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        string name;
        GroupMethod method;
        var members = new List<GroupMember>();
        using (document)
        {
            var body = document!.RootElement;
            name = RequestJson.RequiredString(body, "name", RequestRules.MaxNameLength, out var error)!;
            if (name is null)
            {
                return Problems.BadRequest(error!);
            }

            if (!body.TryGetProperty("method", out var methodElement) || methodElement.ValueKind != JsonValueKind.String ||
                !GroupMethods.TryParse(methodElement.GetString(), out method))
            {
                return Problems.BadRequest("method: required, one of max, weighted-sum, noisy-or");
            }

            if (!body.TryGetProperty("members", out var membersElement) || membersElement.ValueKind != JsonValueKind.Array ||
                membersElement.GetArrayLength() is 0 or > RequestRules.MaxGroupMembers)
            {
                return Problems.BadRequest($"members: required array of 1–{RequestRules.MaxGroupMembers} entity ids or {{\"entity\", \"weight\"}} objects");
            }

            var index = 0;
            foreach (var member in membersElement.EnumerateArray())
            {
                var (entity, weight) = member.ValueKind switch
                {
                    JsonValueKind.String => (member.GetString(), 1.0),
                    JsonValueKind.Object when member.TryGetProperty("entity", out var e) && e.ValueKind == JsonValueKind.String =>
                        (e.GetString(), member.TryGetProperty("weight", out var w) ? w.ValueKind == JsonValueKind.Number && w.TryGetDouble(out var d) ? d : double.NaN : 1.0),
                    _ => (null, double.NaN),
                };
                if (!EntityIds.IsValid(entity))
                {
                    return Problems.BadRequest($"members[{index}]: " + EntityIds.Describe(entity));
                }

                if (!RequestRules.IsWeight(weight))
                {
                    return Problems.BadRequest($"members[{index}].weight: must be a number in (0, {RequestRules.MaxWeight}]");
                }

                if (members.Any(m => m.Entity == entity))
                {
                    return Problems.BadRequest($"members[{index}]: '{entity}' is listed twice");
                }

                members.Add(new GroupMember(entity!, weight));
                index++;
            }
        }

        foreach (var member in members)
        {
            if (!await catalog.ExistsAsync(member.Entity, cancellationToken))
            {
                return Problems.UnknownEntity(member.Entity);
            }
        }

        var created = await catalog.UpsertGroupAsync(id, name, method, members, cancellationToken);
        if (!created)
        {
            await grains.GetGrain<IGroupGrain>(id).ReloadAsync();
        }

        var response = GroupResponse.Of((await catalog.FindGroupAsync(id, cancellationToken))!);
        return created ? TypedResults.Created($"/api/groups/{id}", response) : TypedResults.Ok(response);
    }

    private static async Task<Results<Ok<List<GroupResponse>>, ProblemHttpResult>> ListGroups(
        string? limit, string? after, HttpContext context, IEntityCatalog catalog, IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        if (!QueryValues.TryLimit(limit, "limit", Paging.DefaultPageSize, options.Value.Query.MaxLimit, out var count, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var groups = await catalog.ListGroupsAsync(after, count, cancellationToken);
        if (groups.Count == count)
        {
            Paging.LinkNext(context, "/api/groups", count, groups[^1].Id);
        }

        return TypedResults.Ok(groups.Select(GroupResponse.Of).ToList());
    }

    private static async Task<ProblemHttpResult?> CheckGroupAsync(string id, IEntityCatalog catalog, CancellationToken cancellationToken) =>
        EntityIds.IsValid(id) && await catalog.FindGroupAsync(id, cancellationToken) is not null
            ? null
            : Problems.NotFound($"there is no group '{id}'");

    private static async Task<Results<Ok<GroupResponse>, ProblemHttpResult>> GetGroup(string id, IEntityCatalog catalog, CancellationToken cancellationToken)
    {
        var group = EntityIds.IsValid(id) ? await catalog.FindGroupAsync(id, cancellationToken) : null;
        return group is null ? Problems.NotFound($"there is no group '{id}'") : TypedResults.Ok(GroupResponse.Of(group));
    }

    private static async Task<Results<Ok<GroupImpactReport>, ProblemHttpResult>> Impact(
        string id, string? at, IEntityCatalog catalog, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await CheckGroupAsync(id, catalog, cancellationToken) is { } missing)
        {
            return missing;
        }

        if (!QueryValues.TryInstant(at, "at", time.GetUtcNow(), out var instant, out var error))
        {
            return Problems.BadRequest(error!);
        }

        return TypedResults.Ok(await grains.GetGrain<IGroupGrain>(id).GetImpactAsync(instant));
    }

    private static async Task<Results<Ok<GroupExplainReport>, ProblemHttpResult>> Explain(
        string id, string? at, string? limit, IEntityCatalog catalog, IGrainFactory grains, TimeProvider time,
        IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        if (await CheckGroupAsync(id, catalog, cancellationToken) is { } missing)
        {
            return missing;
        }

        if (!QueryValues.TryInstant(at, "at", time.GetUtcNow(), out var instant, out var error) ||
            !QueryValues.TryLimit(limit, "limit", 20, options.Value.Query.MaxLimit, out var count, out error))
        {
            return Problems.BadRequest(error!);
        }

        return TypedResults.Ok(await grains.GetGrain<IGroupGrain>(id).ExplainAsync(instant, count));
    }

    private static async Task<Results<Ok<HistoryReport>, ProblemHttpResult>> History(
        string id, string? from, string? to, string? step, IEntityCatalog catalog, IGrainFactory grains, TimeProvider time,
        IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        if (await CheckGroupAsync(id, catalog, cancellationToken) is { } missing)
        {
            return missing;
        }

        if (HistoryPoints.Parse(from, to, step, time.GetUtcNow(), options.Value.Query.MaxHistoryPoints, out var points) is { } error)
        {
            return Problems.BadRequest(error);
        }

        return TypedResults.Ok(await grains.GetGrain<IGroupGrain>(id).GetHistoryAsync(points));
    }
}
