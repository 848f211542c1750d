using System.Text.Json;
using System.Text.Json.Serialization;
using ImpactGrains.Server.Api;
using ImpactGrains.Server.Api.Responses;
using Contracts = ImpactGrains.Abstractions;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// The source-generated answers (#15) write the same bytes as the reflection-based serializer wrote for the grain
/// contracts with the API's options (web defaults, strict numbers).
/// </summary>
public sealed class ReadJsonTests
{
    private static readonly JsonSerializerOptions Before = new(JsonSerializerDefaults.Web) { NumberHandling = JsonNumberHandling.Strict };

    [Fact]
    public void Impact_explain_and_leaderboard_answers_are_byte_for_byte_those_of_before()
    {
        var at = new DateTimeOffset(2026, 11, 27, 2, 56, 22, TimeSpan.Zero).AddTicks(2047448);
        var impact = new Contracts.ImpactReport("acme", at, 61.02691918877444, 56.62383995423805, 1e-7,
            new Dictionary<string, double> { ["operational"] = 25.99458751177669, ["market"] = 0, ["financial"] = 6.75, ["reputational"] = 100 },
            new Dictionary<string, double> { ["US"] = 25.99458751177669, ["GLOBAL"] = 20.09785833178831, ["ÉÈ"] = 1 },
            new Contracts.PeakReport(61.061219890277705, null), -3.5, 4, "v1 \"quoted\" <b>");
        Assert.Equal(JsonSerializer.Serialize(impact, Before), JsonSerializer.Serialize(ImpactReport.From(impact), ReadJson.Default.ImpactReport));
        var peaked = impact with { Peak = new Contracts.PeakReport(1, at.ToOffset(TimeSpan.FromHours(2))) };
        Assert.Equal(JsonSerializer.Serialize(peaked, Before), JsonSerializer.Serialize(ImpactReport.From(peaked), ReadJson.Default.ImpactReport));

        var explain = new Contracts.ExplainReport("elon-musk", at,
        [
            new Contracts.ContributionReport("demo-musk-net-worth", "elon-musk", "net-worth-change", at, "financial", 14.508474191545721, 0.186996476216046),
            new Contracts.ContributionReport("e&2", "tesla", "sales-change", at.AddDays(-6), "market", 0, 1),
        ]);
        Assert.Equal(JsonSerializer.Serialize(explain, Before), JsonSerializer.Serialize(ExplainReport.From(explain), ReadJson.Default.ExplainReport));

        var board = new LeaderboardResponse(at, "company", null, "US", [new LeaderboardEntry("x", "X <Corp>", "company", 65.6525144092116)]);
        Assert.Equal(JsonSerializer.Serialize(board, Before), JsonSerializer.Serialize(board, ReadJson.Default.LeaderboardResponse));
    }
}
