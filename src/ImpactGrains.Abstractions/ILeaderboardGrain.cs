using Orleans.Concurrency;

namespace ImpactGrains.Abstractions;

/// <summary>The global ranking view, fed by the partitions' candidates a few times a second.</summary>
public interface ILeaderboardGrain : IGrainWithIntegerKey
{
    Task PublishAsync(int partition, IReadOnlyList<StandingReport> candidates);

    /// <summary>The top entities now, optionally of one kind, by a category or a region instead of the overall score.</summary>
    [ReadOnly]
    Task<IReadOnlyList<RankedEntry>> TopAsync(string? kind, string? category, string? region, int limit, DateTimeOffset at);
}
