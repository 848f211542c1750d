using System.Globalization;
using System.Text.RegularExpressions;
using ImpactGrains.Scoring.Validation;

namespace ImpactGrains.Server.Api;

/// <summary>Parses query-string values by hand, so that every bad value gets a clear message.</summary>
internal static partial class QueryValues
{
    /// <summary>An RFC 3339 instant, or <paramref name="fallback"/> when absent.</summary>
    public static bool TryInstant(string? text, string name, DateTimeOffset fallback, out DateTimeOffset value, out string? error)
    {
        error = null;
        value = fallback;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (EventJson.ParseTimestamp(text) is { } parsed)
        {
            value = parsed.ToUniversalTime();
            return true;
        }

        error = $"{name}: '{Shorten(text)}' is not an RFC 3339 timestamp with an offset, such as 2025-03-10T14:00:00Z";
        return false;
    }

    public static bool TryLimit(string? text, string name, int fallback, int max, out int value, out string? error)
    {
        error = null;
        value = fallback;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1 && value <= max)
        {
            return true;
        }

        error = $"{name}: must be a whole number from 1 to {max}";
        return false;
    }

    // ISO 8601 durations without years or months, whose length depends on the calendar. ASCII digits only (\d would take
    // any Unicode digit, which double.Parse then refuses) and \z, since $ would let a trailing newline through.
    [GeneratedRegex(@"^P(?:(?<w>[0-9]+)W)?(?:(?<d>[0-9]+)D)?(?:T(?:(?<h>[0-9]+)H)?(?:(?<m>[0-9]+)M)?(?:(?<s>[0-9]+(?:\.[0-9]+)?)S)?)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();

    public static bool TryDuration(string? text, string name, TimeSpan fallback, out TimeSpan value, out string? error)
    {
        error = null;
        value = fallback;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        var match = Duration().Match(text);
        if (match.Success && text != "P" && !text.EndsWith('T'))
        {
            double Part(string group) => match.Groups[group].Success ? double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
            var seconds = Part("w") * 604800 + Part("d") * 86400 + Part("h") * 3600 + Part("m") * 60 + Part("s");
            if (seconds >= 1 && seconds <= TimeSpan.FromDays(3650).TotalSeconds)
            {
                value = TimeSpan.FromSeconds(seconds);
                return true;
            }
        }

        error = $"{name}: '{Shorten(text)}' is not an ISO 8601 duration of at least one second in weeks, days, hours, minutes or seconds, such as PT1H or P1D";
        return false;
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
