namespace ImpactGrains.Abstractions;

/// <summary>A group (portfolio) of entities: its score combines the members' scores by the group's method.</summary>
public interface IGroupGrain : IGrainWithStringKey
{
    Task<GroupImpactReport> GetImpactAsync(DateTimeOffset at);

    Task<GroupExplainReport> ExplainAsync(DateTimeOffset at, int limit);

    Task<HistoryReport> GetHistoryAsync(IReadOnlyList<DateTimeOffset> points);

    /// <summary>Re-reads the definition after it changed.</summary>
    Task ReloadAsync();
}

[GenerateSerializer, Immutable]
public sealed record GroupMemberReport(
    [property: Id(0)] string Entity,
    [property: Id(1)] double Weight,
    [property: Id(2)] double Score,
    [property: Id(3)] double Share);

/// <param name="Regions">
/// The group's score from each region's events alone: the members' region scores combined by the group's method, for
/// every region where some member has impact (as an entity's <see cref="ImpactReport.Regions"/>).
/// </param>
[GenerateSerializer, Immutable]
public sealed record GroupImpactReport(
    [property: Id(0)] string Group,
    [property: Id(1)] string Name,
    [property: Id(2)] string Method,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] double Score,
    [property: Id(5)] double Trend24h,
    [property: Id(6)] IReadOnlyList<GroupMemberReport> Members,
    [property: Id(7)] string ModelVersion,
    [property: Id(8)] IReadOnlyDictionary<string, double> Regions);

/// <param name="Member">The group member the contribution comes through.</param>
[GenerateSerializer, Immutable]
public sealed record GroupContributionReport(
    [property: Id(0)] string EventId,
    [property: Id(1)] string Member,
    [property: Id(2)] string Entity,
    [property: Id(3)] string Type,
    [property: Id(4)] DateTimeOffset OccurredAt,
    [property: Id(5)] string Category,
    [property: Id(6)] double Contribution,
    [property: Id(7)] double Share);

[GenerateSerializer, Immutable]
public sealed record GroupExplainReport(
    [property: Id(0)] string Group,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] IReadOnlyList<GroupContributionReport> Contributions);
