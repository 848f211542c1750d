using System.Text.Json;

namespace ImpactGrains.Scoring.Validation;

/// <summary>
/// System.Text.Json parses a document whose strings hold invalid UTF-8 bytes or an unpaired surrogate escape
/// (<c>"\ud800"</c>), and only reading such a string (<see cref="JsonElement.GetString"/>, a property's name) then
/// throws <see cref="InvalidOperationException"/>. Input is checked with this before it is read, so that such text is
/// refused as invalid input rather than failing with an unexpected exception.
/// </summary>
public static class JsonStrings
{
    public const string Problem = "a string or property name is not valid Unicode (invalid UTF-8, or an unpaired surrogate escape such as \\ud800)";

    /// <summary>Whether every string and property name in the element can be read.</summary>
    public static bool AreValid(JsonElement element)
    {
        try
        {
            Read(element);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // Depth is bounded by the parser's MaxDepth.
    private static void Read(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    Read(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Read(item);
                }

                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }
}
