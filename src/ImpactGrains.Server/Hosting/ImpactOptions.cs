namespace ImpactGrains.Server.Hosting;

/// <summary>The <c>Impact</c> configuration section.</summary>
public sealed class ImpactOptions
{
    public const string Section = "Impact";

    /// <summary>Sqlite (the embedded default: one silo, files in <see cref="DataDirectory"/>) or Postgres (a cluster).</summary>
    public StorageProfile Storage { get; set; } = StorageProfile.Sqlite;

    /// <summary>Apply pending schema migrations at start-up (under an advisory lock on PostgreSQL).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>How long a SIGTERM may take: in-flight requests finish, grains write snapshots, the silo leaves the cluster.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the embedded profile keeps its files.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>
    /// The embedded log writer's SQLite page cache, in MiB: it holds the hot parts of the log's indexes, and appends slow
    /// down once they outgrow it (docs/performance.md). The process's resident memory grows up to this much as the log
    /// grows, whatever the entities.
    /// </summary>
    public int LogCacheMiB { get; set; } = 256;

    /// <summary>
    /// Load the demo scenario on the first start into an empty store. Unset means on for the embedded profile and off
    /// for PostgreSQL, where an empty production cluster should stay empty.
    /// </summary>
    public bool? Demo { get; set; }

    public bool LoadsDemo => Demo ?? Storage == StorageProfile.Sqlite;

    public IngestionOptions Ingestion { get; set; } = new();

    public QueryOptions Query { get; set; } = new();

    public EntityOptions Entities { get; set; } = new();

    /// <summary>The embedded profile's log cache size is refused outside 2 to 65,536 MiB; an error message, or null.</summary>
    public string? LogCacheProblem() =>
        LogCacheMiB is < 2 or > 65536 ? $"Impact:LogCacheMiB: {LogCacheMiB} is not a size from 2 to 65,536 MiB" : null;

    /// <summary>The start-up check (PostgreSQL ignores the log cache); an error message, or null.</summary>
    public string? Validate() => Storage == StorageProfile.Sqlite ? LogCacheProblem() : null;
}

public enum StorageProfile
{
    Sqlite,
    Postgres,
}

public sealed class IngestionOptions
{
    /// <summary>A larger request body is refused with 413 and stores nothing.</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>A request with more events is refused with 413 and stores nothing.</summary>
    public int MaxEventsPerRequest { get; set; } = 10_000;

    // ApplyWait and MaxUndeliveredEvents of this section: Grains.Ownership.DeliveryWaitOptions.
}

public sealed class EntityOptions
{
    /// <summary>
    /// An entity grain that has had no call for this long is deactivated (its snapshot written, its memory freed); the
    /// next call reactivates it from its snapshot and the log. Its leaderboard standing stays with its partition.
    /// </summary>
    public TimeSpan IdleAfter { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Grain locations each silo caches (Orleans' grain directory cache, an LRU). Orleans' default, a million, keeps an
    /// entry of about 400 bytes for every entity ever called, deactivated or not (a heap dump of 50,000 idle entities,
    /// docs/performance.md): bounded here, so that a million idle entities do not carry it. A miss costs one directory
    /// lookup, local on one silo.
    /// </summary>
    public int DirectoryCacheSize { get; set; } = 100_000;
}

public sealed class QueryOptions
{
    public int MaxHistoryPoints { get; set; } = 10_000;

    public int MaxLimit { get; set; } = 1_000;
}
