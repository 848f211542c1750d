namespace ImpactGrains.Grains;

public static class GrainStorageNames
{
    /// <summary>The grain storage provider that holds snapshots.</summary>
    public const string Snapshots = "snapshots";

    /// <summary>
    /// The state name of entity snapshots. ADO.NET storage keys rows by grain id and state name, not grain type, so
    /// every grain type needs its own state name.
    /// </summary>
    public const string EntitySnapshot = "entity-snapshot";

    public const string LeaderboardPartition = "leaderboard-partition";
}
