using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Ranking;

namespace ImpactGrains.Grains;

/// <inheritdoc cref="ILeaderboardGrain"/>
/// <remarks>
/// It holds only the partitions' candidates (at most K per board per partition) and is written a few times a second
/// per partition, never per event. Its state is rebuilt by the partitions' next publications after a move.
/// </remarks>
public sealed class LeaderboardGrain(DecayTable table) : Grain, ILeaderboardGrain
{
    private readonly Dictionary<int, IReadOnlyList<Standing>> candidates = [];
    private readonly Dictionary<int, StandingBatch> published = [];
    private long version = DateTime.UtcNow.Ticks;
    private CandidatesSnapshot? snapshot;

    public Task PublishAsync(int partition, StandingBatch reports)
    {
        candidates[partition] = reports.Reports.Select(r => r.ToStanding()).ToList();
        published[partition] = reports; // passed on to the silos' copies as it came: never decoded and encoded again
        version++;
        snapshot = null;
        return Task.CompletedTask;
    }

    public Task<CandidatesSnapshot> CandidatesAsync(long knownVersion)
    {
        if (knownVersion == version)
        {
            return Task.FromResult(new CandidatesSnapshot(version, null));
        }

        snapshot ??= new CandidatesSnapshot(version, published.OrderBy(p => p.Key).Select(p => p.Value).ToList());
        return Task.FromResult(snapshot);
    }

    public Task<IReadOnlyList<RankedEntry>> TopAsync(EntityKindCode? kind, EventCategoryCode? category, string? region, int limit, DateTimeOffset at)
    {
        var board = new Board((EntityKind?)kind, (EventCategory?)category, region);
        IReadOnlyList<RankedEntry> top = Rankings.Top(candidates.Values.SelectMany(s => s), board, at.UtcTicks, table, limit)
            .Select(r => new RankedEntry(r.Standing.Entity, r.Standing.Name, (EntityKindCode)r.Standing.Kind, r.Score))
            .ToList();
        return Task.FromResult(top);
    }
}
