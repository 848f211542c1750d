using System.Text.Json;
using System.Text.Json.Serialization;
using Contracts = ImpactGrains.Abstractions;

namespace ImpactGrains.Server.Api.Responses;

// The HTTP API's own answers to the hot reads (#15): the grain contracts may change for the cluster's sake without
// changing the API, and System.Text.Json's source generator writes them straight to the response. Same names and
// shapes as the contracts they were, so the OpenAPI schemas are unchanged.

/// <summary>The highest score reached at or before the instant, and when.</summary>
public sealed record PeakReport(double Score, DateTimeOffset? At);

/// <summary>An entity's impact at one instant (<c>GET /api/entities/{id}/impact</c>).</summary>
public sealed record ImpactReport(
    string Entity,
    DateTimeOffset At,
    double Score,
    double Direct,
    double Inherited,
    IReadOnlyDictionary<string, double> Categories,
    IReadOnlyDictionary<string, double> Regions,
    PeakReport Peak,
    double Trend24h,
    int EventCount,
    string ModelVersion)
{
    public static ImpactReport From(Contracts.ImpactReport r) =>
        new(r.Entity, r.At, r.Score, r.Direct, r.Inherited, r.Categories, r.Regions, new PeakReport(r.Peak.Score, r.Peak.At), r.Trend24h, r.EventCount, r.ModelVersion);
}

/// <summary>One event behind a score.</summary>
public sealed record ContributionReport(string EventId, string Entity, string Type, DateTimeOffset OccurredAt, string Category, double Contribution, double Share);

/// <summary>The events behind an entity's score (<c>GET /api/entities/{id}/explain</c>).</summary>
public sealed record ExplainReport(string Entity, DateTimeOffset At, IReadOnlyList<ContributionReport> Contributions)
{
    public static ExplainReport From(Contracts.ExplainReport r) =>
        new(r.Entity, r.At, r.Contributions.Select(c => new ContributionReport(c.EventId, c.Entity, c.Type, c.OccurredAt, c.Category, c.Contribution, c.Share)).ToList());
}

/// <summary>
/// Source-generated serialization of the read answers, with the options the API's other answers get
/// (<c>ConfigureHttpJsonOptions</c>: web defaults, strict numbers).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ImpactReport))]
[JsonSerializable(typeof(ExplainReport))]
[JsonSerializable(typeof(LeaderboardResponse))]
internal sealed partial class ReadJson : JsonSerializerContext;
