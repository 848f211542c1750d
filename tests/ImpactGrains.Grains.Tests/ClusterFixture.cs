using ImpactGrains.Abstractions;
using ImpactGrains.Grains;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace ImpactGrains.Grains.Tests;

/// <summary>
/// A two-silo in-process cluster over a real embedded store: the SQLite event log and catalog, and grain snapshots
/// through Orleans' ADO.NET grain storage on SQLite. Both silos share the one log, as silos of one process would.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly ScoringModel Model = ScoringModel.Default;
    public static readonly DecayTable Table = new(Model);
    public static readonly ImpactCalculator Calculator = new(Model);

    /// <summary>
    /// Counts incoming grain calls per method and per entity (the grain's key, or the entity a standing reports), on
    /// every silo, so tests can see what the event path costs.
    /// </summary>
    public sealed class CallCounter : IIncomingGrainCallFilter
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Method, string Entity), int> Calls = new();

        public Task Invoke(IIncomingGrainCallContext context)
        {
            var method = $"{context.InterfaceMethod.DeclaringType?.Name}.{context.InterfaceMethod.Name}";
            if (context.Request.GetArgumentCount() > 0 && context.Request.GetArgument(0) is StandingBatch batch)
            {
                foreach (var report in batch.Reports)
                {
                    Calls.AddOrUpdate((method, report.Entity), 1, (_, n) => n + 1);
                }
            }
            else
            {
                Calls.AddOrUpdate((method, context.TargetId.Key.ToString() ?? ""), 1, (_, n) => n + 1);
            }

            return context.Invoke();
        }

        public static int Count(string method, Func<string, bool> entity) =>
            Calls.Where(c => c.Key.Method == method && entity(c.Key.Entity)).Sum(c => c.Value);
    }

    /// <summary>
    /// A listener of the live feed in every silo (as alerting is in the server): it records the entities of the score
    /// changes the feed publishes, and wants them only when a test says so.
    /// </summary>
    public sealed class FeedRecorder : ILiveFeedListener
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> scored = new();
        private volatile bool wantsScores;

        public bool WantsScores
        {
            get => wantsScores;
            set => wantsScores = value;
        }

        public IReadOnlyCollection<string> Scored => scored;

        public void OnPublished(IReadOnlyList<LiveMessage> messages)
        {
            foreach (var message in messages)
            {
                if (message.Event is ScoreChanged score)
                {
                    scored.Enqueue(score.EntityId);
                }
            }
        }
    }

    public FeedRecorder Feed { get; } = new();

    private readonly string directory = Path.Combine(Path.GetTempPath(), "impactgrains-tests", Guid.NewGuid().ToString("N"));
    private readonly Func<IEntityCatalog, IEntityCatalog> catalogSeenBySilos;
    private readonly Action<SnapshotOptions> configureSnapshots;

    public ClusterFixture()
        : this(catalog => catalog, _ => { })
    {
    }

    /// <summary>A cluster whose silos see the catalog through <paramref name="catalogSeenBySilos"/> (internal: xunit wants one public constructor).</summary>
    internal ClusterFixture(Func<IEntityCatalog, IEntityCatalog> catalogSeenBySilos, Action<SnapshotOptions> configureSnapshots)
    {
        this.catalogSeenBySilos = catalogSeenBySilos;
        this.configureSnapshots = configureSnapshots;
    }

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public SqliteDatabase Database { get; private set; } = null!;

    public SqliteEventLog Log { get; private set; } = null!;

    public SqliteEntityCatalog Catalog { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        Database = new SqliteDatabase(directory);
        Database.Migrate();
        Log = new SqliteEventLog(Database);
        Catalog = new SqliteEntityCatalog(Database);

        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IEventLog>(Log);
            silo.Services.AddSingleton(catalogSeenBySilos(Catalog));
            silo.Services.AddSingleton<ITimelineStore>(new SqliteTimelineStore(Database));
            silo.Services.AddSingleton<IStandingStore>(new SqliteStandingStore(Database));
            silo.Services.AddSingleton<IModelRegistry>(new SqliteModelRegistry(Database));
            silo.Services.AddSingleton(Table);
            silo.Services.AddSingleton(Calculator);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<ImpactMetrics>();
            silo.AddIncomingGrainCallFilter<CallCounter>();
            silo.Services.AddSingleton<ILiveFeedListener>(Feed);
            // Small, so that every test seals intervals, reads them back from the log, persists them in chunks and pages them out.
            silo.Services.Configure<Scoring.Timeline.TimelineOptions>(o =>
            {
                o.TailCapacity = 16;
                o.LateAllowance = TimeSpan.Zero;
                o.IntervalSize = 4;
                o.ExplainCapacity = 50;
                // One page in memory once persisted: older instants read their pages back from the timeline store.
                o.PagesInMemory = 1;
                o.HistoryChunksInMemory = 1;
                o.HistoryIntervalsInMemory = 2;
            });
            // Small, so that snapshots are written and read back during the tests.
            silo.Services.Configure<SnapshotOptions>(o =>
            {
                o.EveryEvents = 5;
                o.MinChanges = 1;
                configureSnapshots(o);
            });
            silo.Services.Configure<LeaderboardOptions>(o => o.SaveInterval = TimeSpan.FromMilliseconds(500));
            silo.AddStandingReports();
            silo.AddEntityOwnership();
            silo.AddSnapshotStorage(SqliteDatabase.OrleansInvariant, Database.SnapshotConnectionString);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Log.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }
    }

    public async Task RegisterAsync(params string[] ids)
    {
        foreach (var id in ids)
        {
            await Catalog.UpsertEntityAsync(id, id, EntityKind.Company, []);
        }
    }

    /// <summary>What the ingestion path does: commit to the log, then one grain call per entity.</summary>
    public async Task<IReadOnlyList<ScoredEvent>> IngestAsync(IReadOnlyList<ImpactEvent> events)
    {
        var outcomes = (await Log.AppendAsync(events)).Outcomes;
        var scored = events.Select((e, i) => (Event: e, Outcome: outcomes[i]))
            .Where(x => !x.Outcome.Duplicate)
            .Select(x => Calculator.Score(x.Event, x.Outcome.EntitySequence))
            .ToList();
        var byEntity = events.Select((e, i) => (e.Entity, Outcome: outcomes[i], Index: i))
            .Where(x => !x.Outcome.Duplicate)
            .GroupBy(x => x.Entity);
        await Task.WhenAll(byEntity.Select(group => Client.GetGrain<IEntityGrain>(group.Key).ApplyAsync(
            new EntityEventBatch(
                group.Select(x => Calculator.Score(events[x.Index], x.Outcome.EntitySequence)).ToList(),
                group.Select(x => OutageObservation.Of(events[x.Index], x.Outcome.EntitySequence)).OfType<OutageObservation>().ToList()))));
        return scored;
    }

    /// <summary>Activates the entities and moves them so that every other one lives on the second silo.</summary>
    public async Task SpreadAsync(IReadOnlyList<string> ids)
    {
        var silos = Cluster.GetActiveSilos().Select(s => s.SiloAddress).ToList();
        foreach (var id in ids)
        {
            await Client.GetGrain<IEntityGrain>(id).GetImpactAsync(DateTimeOffset.UtcNow);
        }

        var placement = await PlacementAsync();
        for (var i = 0; i < ids.Count; i++)
        {
            var target = silos[i % silos.Count];
            if (!placement[ids[i]].Equals(target))
            {
                // Bounded: a migration that does not happen within seconds leaves the grain where it is.
                await Cluster.MigrateAsync(Client.GetGrain<IEntityGrain>(ids[i]), target).WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
    }

    /// <summary>Which silo each grain of a type (by default entity grains) is active on.</summary>
    public async Task<Dictionary<string, SiloAddress>> PlacementAsync(string grainType = "entity")
    {
        var management = Client.GetGrain<IManagementGrain>(0);
        var stats = (await management.GetDetailedGrainStatistics()).Where(s => s.GrainId.Type.ToString() == grainType).ToList();
        return stats.ToDictionary(s => s.GrainId.Key.ToString()!, s => s.SiloAddress);
    }
}
