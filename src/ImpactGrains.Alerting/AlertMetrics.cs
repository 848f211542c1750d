namespace ImpactGrains.Alerting;

/// <summary>The metrics a rule can watch.</summary>
public static class AlertMetrics
{
    public const string Score = "score";
    public const string Trend24h = "trend24h";
    public const string Spike = "spike";

    /// <summary>score, the four categories, trend24h and spike.</summary>
    public static readonly IReadOnlyList<string> All = [Score, "operational", "market", "financial", "reputational", Trend24h, Spike];

    public static bool IsValid(string? metric) => metric is not null && All.Contains(metric, StringComparer.Ordinal);
}
