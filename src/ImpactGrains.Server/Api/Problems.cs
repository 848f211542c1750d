using Microsoft.AspNetCore.Http.HttpResults;

namespace ImpactGrains.Server.Api;

/// <summary>RFC 7807 problem+json answers, one wording per kind of refusal.</summary>
internal static class Problems
{
    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid request");

    public static ProblemHttpResult UnknownEntity(string id) =>
        TypedResults.Problem($"there is no entity '{id}'", statusCode: StatusCodes.Status404NotFound, title: "Unknown entity");

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Status(int statusCode, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: statusCode, title: title);
}

/// <summary>The OpenAPI description of an endpoint, in one call per endpoint.</summary>
internal static class OperationMetadata
{
    /// <summary>
    /// Names the operation (its operationId, which generated clients name their methods after), tags it, summarises
    /// it, and lists the problem+json answers it can give besides those every operation can (401, 403, 429, 503).
    /// </summary>
    public static RouteHandlerBuilder Operation(this RouteHandlerBuilder endpoint, string operationId, string tag, string summary, string description, params int[] problems)
    {
        endpoint.WithName(operationId).WithTags(tag).WithSummary(summary).WithDescription(description);
        foreach (var status in problems)
        {
            endpoint.ProducesProblem(status);
        }

        return endpoint;
    }
}
