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
