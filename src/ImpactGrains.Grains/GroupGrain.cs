using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Groups;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Storage;

namespace ImpactGrains.Grains;

/// <inheritdoc cref="IGroupGrain"/>
/// <remarks>
/// It keeps no scores of its own: every answer asks the members' grains for the same instant and combines them, so a
/// group is always exactly as fresh as its members. Explanations weight each member's events by the member's share.
/// </remarks>
public sealed class GroupGrain(IEntityCatalog catalog, DecayTable table) : Grain, IGroupGrain
{
    private GroupRecord? definition;

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public Task ReloadAsync() => LoadAsync(CancellationToken.None);

    private async Task LoadAsync(CancellationToken cancellationToken) =>
        definition = await catalog.FindGroupAsync(Id, cancellationToken)
            ?? throw new KeyNotFoundException($"there is no group '{Id}'");

    private GroupRecord Definition => definition ?? throw new KeyNotFoundException($"there is no group '{Id}'");

    private async Task<(GroupScore Score, IReadOnlyList<ImpactReport> Members)> CombineAsync(DateTimeOffset at)
    {
        var group = Definition;
        var reports = await Task.WhenAll(group.Members.Select(m => GrainFactory.GetEntityGrain(m.Entity).GetImpactAsync(at)));
        var score = GroupAggregation.Combine(group.Method,
            group.Members.Select((m, i) => new MemberScore(m.Entity, m.Weight, reports[i].Score)).ToList(), table);
        return (score, reports);
    }

    public async Task<GroupImpactReport> GetImpactAsync(DateTimeOffset at)
    {
        var group = Definition;
        var (now, members) = await CombineAsync(at);
        // An instant within a day of the earliest one has nothing before it: its trend compares with that earliest instant.
        var (dayBefore, _) = await CombineAsync(at.UtcTicks >= ImpactView.TrendWindow.Ticks ? at - ImpactView.TrendWindow : DateTimeOffset.MinValue);
        return new GroupImpactReport(
            Id,
            group.Name,
            group.Method.WireName(),
            at,
            now.Score,
            now.Score - dayBefore.Score,
            group.Members.Select((m, i) => new GroupMemberReport(m.Entity, m.Weight, members[i].Score, now.MemberShares[m.Entity])).ToList(),
            table.Model.Version,
            CombineRegions(group, members));
    }

    /// <summary>Per region where any member has impact, the members' scores there combined as the group combines scores.</summary>
    private Dictionary<string, double> CombineRegions(GroupRecord group, IReadOnlyList<ImpactReport> members)
    {
        var regions = new SortedSet<string>(members.SelectMany(m => m.Regions.Keys), StringComparer.Ordinal);
        return regions.ToDictionary(
            region => region,
            region => GroupAggregation.Combine(group.Method,
                group.Members.Select((m, i) => new MemberScore(m.Entity, m.Weight, members[i].Regions.GetValueOrDefault(region))).ToList(), table).Score,
            StringComparer.Ordinal);
    }

    public async Task<GroupExplainReport> ExplainAsync(DateTimeOffset at, int limit)
    {
        var group = Definition;
        var (score, _) = await CombineAsync(at);
        var explained = await Task.WhenAll(group.Members.Select(m => GrainFactory.GetEntityGrain(m.Entity).ExplainAsync(at, limit)));
        var contributions = group.Members
            .SelectMany((m, i) => explained[i].Contributions.Select(c =>
            {
                var share = score.MemberShares[m.Entity] * c.Share;
                return new GroupContributionReport(c.EventId, m.Entity, c.Entity, c.Type, c.OccurredAt, c.Category, share * score.Score, share);
            }))
            .Where(c => c.Share > 0)
            .OrderByDescending(c => c.Share)
            .ThenByDescending(c => c.OccurredAt)
            .ThenBy(c => c.EventId, StringComparer.Ordinal)
            .Take(limit)
            .ToList();
        return new GroupExplainReport(Id, at, contributions);
    }

    public async Task<HistoryReport> GetHistoryAsync(IReadOnlyList<DateTimeOffset> points)
    {
        var group = Definition;
        var histories = await Task.WhenAll(group.Members.Select(m => GrainFactory.GetEntityGrain(m.Entity).GetHistoryAsync(points)));
        var combined = points.Select((at, p) => new HistoryPoint(at, GroupAggregation.Combine(group.Method,
            group.Members.Select((m, i) => new MemberScore(m.Entity, m.Weight, histories[i].Points[p].Score)).ToList(), table).Score)).ToList();
        return new HistoryReport(Id, combined);
    }
}
