using System.Text.Json;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Operations;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <param name="Parameters">The model in its JSON form (<see cref="ScoringModelJson"/>), the form that registering takes.</param>
public sealed record ModelVersionResponse(string Name, string Identity, DateTimeOffset CreatedAt, bool Current, JsonElement Parameters)
{
    public static ModelVersionResponse Of(ModelVersionRecord version, ScoringModel current)
    {
        using var parameters = JsonDocument.Parse(ScoringModelJson.Write(version.Model));
        return new ModelVersionResponse(version.Name, version.Identity, version.CreatedAt, version.Identity == current.Identity, parameters.RootElement.Clone());
    }
}

public sealed record RescoreMover(string Entity, string Name, double Before, double After, double Delta);

public sealed record RescoreMovers(IReadOnlyList<RescoreMover> Up, IReadOnlyList<RescoreMover> Down);

/// <param name="From">The current model's version: the scores as the server computes them.</param>
/// <param name="To">The version the log was replayed under.</param>
/// <param name="Changed">How many entities' scores differ between the two.</param>
public sealed record RescoreResponse(string From, string To, DateTimeOffset At, int Entities, int Changed, RescoreMovers Movers);

/// <summary>
/// Model versions and re-scoring: the registry of versions, and a replay of the event log under a registered version
/// compared with the current model. A replay reads the log and catalog, not the grains, and changes nothing.
/// </summary>
public static class AdminEndpoints
{
    private const int DefaultMovers = 10;

    public static RouteGroupBuilder MapAdmin(this RouteGroupBuilder api)
    {
        api.MapGet("/admin/models", ListModels)
            .Operation("listModels", "Admin", "List the registered model versions", "Oldest first, each with every parameter.");
        api.MapGet("/admin/models/{name}", GetModel)
            .Operation("getModel", "Admin", "Get a model version", "Its identity and every parameter.", StatusCodes.Status404NotFound);
        api.MapPost("/admin/models", PostModel)
            .Accepts<ModelRequest>("application/json")
            .Operation("registerModel", "Admin", "Register a model version",
                "201 when new, 200 when registered with exactly these parameters; 409 when the name has other parameters. It does not change the live scores.",
                StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        api.MapPost("/admin/rescore", Rescore)
            .Accepts<RescoreRequest>("application/json")
            .Operation("rescore", "Admin", "Replay the log under a model version and report the movers",
                "Reads the log and the catalog, not the grains, and changes nothing.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        return api;
    }

    private static ProblemHttpResult UnknownVersion(string name) =>
        Problems.Status(StatusCodes.Status404NotFound, "Unknown model version", $"there is no model version '{name}'; GET /api/admin/models lists them");

    private static async Task<Ok<List<ModelVersionResponse>>> ListModels(IModelRegistry registry, ScoringModel current, CancellationToken cancellationToken) =>
        TypedResults.Ok((await registry.ListAsync(cancellationToken)).Select(v => ModelVersionResponse.Of(v, current)).ToList());

    private static async Task<Results<Ok<ModelVersionResponse>, ProblemHttpResult>> GetModel(
        string name, IModelRegistry registry, ScoringModel current, CancellationToken cancellationToken) =>
        await registry.FindAsync(name, cancellationToken) is { } version
            ? TypedResults.Ok(ModelVersionResponse.Of(version, current))
            : UnknownVersion(name);

    private static async Task<Results<Created<ModelVersionResponse>, Ok<ModelVersionResponse>, ProblemHttpResult>> PostModel(
        HttpRequest request, IModelRegistry registry, ScoringModel current, CancellationToken cancellationToken)
    {
        var (document, problem) = await RequestJson.ReadObjectAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        ScoringModelParseResult parsed;
        using (document)
        {
            parsed = ScoringModelJson.Parse(document!.RootElement);
        }

        if (parsed.Model is not { } model)
        {
            return Problems.BadRequest(string.Join("; ", parsed.Errors));
        }

        var registered = await registry.RegisterAsync(model, cancellationToken);
        var response = ModelVersionResponse.Of(registered.Version, current);
        return registered.Outcome switch
        {
            ModelRegistrationOutcome.Created => TypedResults.Created($"/api/admin/models/{Uri.EscapeDataString(model.Version)}", response),
            ModelRegistrationOutcome.Unchanged => TypedResults.Ok(response),
            _ => Problems.Status(StatusCodes.Status409Conflict, "Model version exists",
                $"version: '{model.Version}' is already registered with other parameters (identity {registered.Version.Identity}, these would be " +
                $"{model.Identity}); parameters never change under a version name, so register them under a new one"),
        };
    }

    private static async Task<Results<Ok<RescoreResponse>, ProblemHttpResult>> Rescore(
        HttpRequest request, IModelRegistry registry, IEventLog log, IEntityCatalog catalog, ScoringModel current,
        TimeProvider time, IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        var (document, problem) = await RequestJson.ReadObjectAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        string name;
        DateTimeOffset at;
        int limit;
        using (document)
        {
            var body = document!.RootElement;
            if (!body.TryGetProperty("version", out var versionElement) || versionElement.ValueKind != JsonValueKind.String ||
                versionElement.GetString() is not { Length: > 0 } text)
            {
                return Problems.BadRequest("version: required string, the name of a registered model version");
            }

            name = text;
            string? error = null;
            at = time.GetUtcNow();
            if (body.TryGetProperty("at", out var atElement) && atElement.ValueKind != JsonValueKind.Null &&
                (atElement.ValueKind != JsonValueKind.String || !QueryValues.TryInstant(atElement.GetString(), "at", at, out at, out error)))
            {
                return Problems.BadRequest(error ?? "at: must be an RFC 3339 timestamp with an offset, such as 2025-03-10T14:00:00Z");
            }

            var max = options.Value.Query.MaxLimit;
            limit = DefaultMovers;
            if (body.TryGetProperty("limit", out var limitElement) && limitElement.ValueKind != JsonValueKind.Null &&
                !(limitElement.ValueKind == JsonValueKind.Number && limitElement.TryGetInt32(out limit) && limit >= 1 && limit <= max))
            {
                return Problems.BadRequest($"limit: must be a whole number from 1 to {max}");
            }
        }

        if (await registry.FindAsync(name, cancellationToken) is not { } target)
        {
            return UnknownVersion(name);
        }

        var entities = (await catalog.ListEntitiesAsync(cancellationToken)).ToDictionary(e => e.Id, e => e.Name, StringComparer.Ordinal);
        var rebuilt = await new ScoreRebuilder(log, catalog).RebuildAsync([current, target.Model], at, cancellationToken);
        var (before, after) = (rebuilt[0], rebuilt[1]);
        var changes = before.Keys
            .Where(after.ContainsKey)
            .Select(id => new RescoreMover(id, entities.GetValueOrDefault(id, id), before[id].Score, after[id].Score, after[id].Score - before[id].Score))
            .Where(m => m.Delta != 0)
            .ToList();
        var up = changes.Where(m => m.Delta > 0)
            .OrderByDescending(m => m.Delta).ThenBy(m => m.Entity, StringComparer.Ordinal).Take(limit).ToList();
        var down = changes.Where(m => m.Delta < 0)
            .OrderBy(m => m.Delta).ThenBy(m => m.Entity, StringComparer.Ordinal).Take(limit).ToList();
        return TypedResults.Ok(new RescoreResponse(current.Version, target.Name, at, before.Count, changes.Count, new RescoreMovers(up, down)));
    }
}
