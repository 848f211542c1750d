using System.Text.RegularExpressions;

namespace ImpactGrains.Scoring.Validation;

public static partial class EntityIds
{
    public const int MaxLength = 64;

    /// <summary>An id without anchors, for patterns that embed one (an alert rule's target).</summary>
    public const string Unanchored = "[a-z0-9][a-z0-9-]{0,63}";

    public const string Pattern = "^" + Unanchored + "$";

    // \z rather than the pattern's $, which in .NET also matches before a final newline ("acme\n" is not an id).
    [GeneratedRegex("^" + Unanchored + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdRegex();

    public static bool IsValid(string? id) => id is not null && IdRegex().IsMatch(id);

    public static string Describe(string? id) =>
        $"'{Truncate(id)}' is not a valid entity id (lower-case letters, digits and '-', 1–64 characters, not starting with '-')";

    internal static string Truncate(string? value) =>
        value is null ? "" : value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 64), "…");
}
