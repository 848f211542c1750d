using System.Globalization;
using Spectre.Console;

namespace ImpactGrains.Cli;

/// <summary>How numbers and instants are shown: invariant culture, scores to two decimals.</summary>
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

    /// <summary>An instant, or – for none.</summary>
    public static string Instant(DateTimeOffset? value) => value is { } instant ? Instant(instant) : "–";

    public static string Escape(string text) => Markup.Escape(text);
}
