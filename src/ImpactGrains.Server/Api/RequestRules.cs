using ImpactGrains.Scoring.Validation;

namespace ImpactGrains.Server.Api;

/// <summary>
/// The limits of the request bodies the endpoints read by hand. The endpoints check them and the OpenAPI document
/// states them (<see cref="Hosting.RequestSchemaConstraints"/>) from these same values, so the two cannot drift apart.
/// </summary>
public static class RequestRules
{
    /// <summary>An entity's or a group's display name.</summary>
    public const int MaxNameLength = 200;

    /// <summary>The text searched for in GET /api/entities?q=.</summary>
    public const int MaxSearchLength = 200;

    /// <summary>
    /// GET /api/alert-rules' after: the last rule's creation in UTC ticks (a 64-bit count, at most 19 digits), a dot, its id.
    /// </summary>
    public const string RuleCursorPattern = @"^[0-9]{1,19}\.";

    public const int MaxTags = 32;
    public const int MaxTagLength = 64;
    public const int MaxRelationLength = 64;
    public const int MaxGroupMembers = 1000;

    /// <summary>A link's or a group member's weight lies in (<see cref="MinWeightExclusive"/>, <see cref="MaxWeight"/>].</summary>
    public const double MinWeightExclusive = 0;
    public const double MaxWeight = 1;

    public const int MinSecretLength = 8;
    public const int MaxSecretLength = 200;
    public const int MaxWebhookLength = 2000;

    public const string GroupTargetPrefix = "group:";
    public const string AnyTarget = "*";
    public static readonly int MaxTargetLength = GroupTargetPrefix.Length + EntityIds.MaxLength;

    /// <summary>An alert rule's target: an entity id, group:&lt;group id&gt;, or * (ECMA-262, as the document gives it).</summary>
    public const string TargetPattern = @"^(\*|(group:)?" + EntityIds.Unanchored + ")$";

    /// <summary>
    /// Text without control characters: exactly the characters <see cref="char.IsControl(char)"/> reports (Unicode
    /// category Cc), which is what the endpoints check.
    /// </summary>
    public const string NoControlCharactersPattern = @"^[^\u0000-\u001F\u007F-\u009F]*$";

    /// <summary>Whether a JSON number is a weight.</summary>
    public static bool IsWeight(double value) => value > MinWeightExclusive && value <= MaxWeight;
}
