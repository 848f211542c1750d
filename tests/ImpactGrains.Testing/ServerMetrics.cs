using System.Globalization;

namespace ImpactGrains.Testing;

/// <summary>Figures read from a running server's Prometheus endpoint (<c>/metrics</c>).</summary>
public static class ServerMetrics
{
    /// <summary>The sum of a metric over all its label sets whose line contains <paramref name="labelFilter"/>.</summary>
    public static async Task<double> SumAsync(HttpClient http, string metric, string labelFilter = "")
    {
        var text = await http.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(l => (l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal)) &&
                        l.Contains(labelFilter, StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>Active grains of one type in the silo, from Orleans' own metric.</summary>
    public static async Task<long> ActivationsAsync(HttpClient http, string grainType) =>
        (long)await SumAsync(http, "orleans_catalog_activations", $"grain_type=\"{grainType}\"");
}
