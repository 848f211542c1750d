using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace ImpactGrains.Cli;

/// <summary>How numbers, instants and JSON values are shown: invariant culture, scores to two decimals.</summary>
internal static class Format
{
    public static string Duration(TimeSpan span) =>
        span.TotalSeconds < 10 ? $"{span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"
        : span.TotalMinutes < 2 ? $"{span.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s"
        : span.TotalHours < 2 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
        : $"{(int)span.TotalHours} h {span.Minutes} min";

    public static string Score(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    public static string Signed(double value) => (value >= 0 ? "+" : "") + Score(value);

    public static string Percent(double share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>An instant in UTC, to the second: 2026-11-27T03:30:50Z.</summary>
    public static string Instant(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Instant(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant)
            ? Instant(instant)
            : value.ValueKind == JsonValueKind.Null || value.ValueKind == JsonValueKind.Undefined ? "–" : value.ToString();

    public static string Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString() ?? "",
                JsonValueKind.Null => "",
                _ => value.GetRawText(),
            }
            : "";

    public static double Double(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : 0;

    public static JsonElement Get(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) ? value : default;

    public static IEnumerable<JsonElement> Array(JsonElement element, string property) =>
        Get(element, property) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];

    public static string Escape(string text) => Markup.Escape(text);
}
