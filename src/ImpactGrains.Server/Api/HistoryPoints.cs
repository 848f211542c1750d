namespace ImpactGrains.Server.Api;

/// <summary>The instants of a history request: from, from + step, … up to and including to.</summary>
internal static class HistoryPoints
{
    /// <summary>Defaults: to = now, from = to − 7 days, step = 1 hour. Returns an error message, or null with the points.</summary>
    public static string? Parse(string? from, string? to, string? step, DateTimeOffset now, int max, out IReadOnlyList<DateTimeOffset> points)
    {
        points = [];
        if (!QueryValues.TryInstant(to, "to", now, out var end, out var error) ||
            !QueryValues.TryInstant(from, "from", DefaultFrom(end), out var start, out error) ||
            !QueryValues.TryDuration(step, "step", TimeSpan.FromHours(1), out var interval, out error))
        {
            return error;
        }

        if (start > end)
        {
            return "from: must not be after to";
        }

        var count = Math.Floor((end - start) / interval) + 1;
        if (count > max)
        {
            return $"from, to and step ask for {count:0} points; at most {max} are allowed, so widen the step or narrow the range";
        }

        points = Enumerable.Range(0, (int)count).Select(i => start + i * interval).ToList();
        return null;
    }

    /// <summary>A week before <paramref name="end"/>, or the earliest instant there is when <paramref name="end"/> is within a week of it.</summary>
    private static DateTimeOffset DefaultFrom(DateTimeOffset end) =>
        end.UtcTicks - DateTimeOffset.MinValue.UtcTicks >= TimeSpan.FromDays(7).Ticks ? end - TimeSpan.FromDays(7) : DateTimeOffset.MinValue;
}
