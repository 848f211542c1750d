using Orleans.Concurrency;

namespace ImpactGrains.Abstractions;

/// <summary>The global ranking view, fed by the partitions' candidates a few times a second.</summary>
public interface ILeaderboardGrain : IGrainWithIntegerKey
{
    Task PublishAsync(int partition, StandingBatch candidates);

    /// <summary>
    /// Every partition's last published candidates, for the copy each silo keeps (the live leaderboard is answered from
    /// that copy, not by this grain: #15); only the version when it is still <paramref name="knownVersion"/>.
    /// </summary>
    [ReadOnly]
    Task<CandidatesSnapshot> CandidatesAsync(long knownVersion);

    /// <summary>
    /// The top entities now, optionally of one kind, by a category or a region instead of the overall score. Kind and
    /// category arrive as enums, parsed once from the query string by the endpoint.
    /// </summary>
    [ReadOnly]
    Task<IReadOnlyList<RankedEntry>> TopAsync(EntityKindCode? kind, EventCategoryCode? category, string? region, int limit, DateTimeOffset at);
}

/// <summary>
/// The leaderboard grain's candidates at one version: a new version with every publication, from the activation's
/// clock, so that a later activation never repeats an earlier one's versions. <see cref="Candidates"/> (each
/// partition's batch as it published it) is null when the caller's version is current.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed record CandidatesSnapshot([property: Id(0)] long Version, [property: Id(1)] IReadOnlyList<StandingBatch>? Candidates);
