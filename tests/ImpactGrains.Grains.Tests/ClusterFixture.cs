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
using Orleans.Serialization;
using Orleans.Storage;
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

    private readonly string directory = Path.Combine(Path.GetTempPath(), "impactgrains-tests", Guid.NewGuid().ToString("N"));

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
            silo.Services.AddSingleton<IEntityCatalog>(Catalog);
            silo.Services.AddSingleton(Table);
            silo.Services.AddSingleton(Calculator);
            silo.Services.AddSingleton(TimeProvider.System);
            // Small, so that snapshots are written and read back during the tests.
            silo.Services.Configure<SnapshotOptions>(o => o.EveryEvents = 5);
            silo.AddAdoNetGrainStorage(GrainStorageNames.Snapshots, options => options.Configure<Serializer>((o, serializer) =>
            {
                o.Invariant = SqliteDatabase.OrleansInvariant;
                o.ConnectionString = Database.SnapshotConnectionString;
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
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
            new EntityEventBatch(group.Select(x => Calculator.Score(events[x.Index], x.Outcome.EntitySequence)).ToList()))));
        return scored;
    }

    /// <summary>Which silo each entity grain is active on.</summary>
    public async Task<Dictionary<string, SiloAddress>> PlacementAsync()
    {
        var management = Client.GetGrain<IManagementGrain>(0);
        var stats = (await management.GetDetailedGrainStatistics()).Where(s => s.GrainId.Type.ToString() == "entity").ToList();
        return stats.ToDictionary(s => s.GrainId.Key.ToString()!, s => s.SiloAddress);
    }
}
