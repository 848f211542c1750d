using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;
using ImpactGrains.Storage;
using Orleans.Runtime;
using Orleans.Storage;

namespace ImpactGrains.Grains.Tests;

/// <summary>
/// Activations read storage (snapshot, log, catalog) a bounded number at a time per silo, so that a burst of
/// thousands cannot open a connection each (docs/performance.md, scale-out).
/// </summary>
public sealed class ActivationLoadTests : IAsyncLifetime
{
    private const int Gate = 2;
    private readonly SlowCatalog catalog = new();
    private readonly ClusterFixture fixture;

    public ActivationLoadTests()
    {
        fixture = new ClusterFixture(inner => catalog.Wrapping(inner), o => o.MaxConcurrentLoads = Gate);
    }

    public Task InitializeAsync() => fixture.InitializeAsync();

    public Task DisposeAsync() => fixture.DisposeAsync();

    [Fact]
    public async Task A_burst_of_activations_reads_the_catalog_at_most_the_gates_width_at_a_time_per_silo()
    {
        var ids = Enumerable.Range(0, 60).Select(i => $"burst-{i}").ToArray();
        await fixture.RegisterAsync(ids);
        var start = new DateTimeOffset(2025, 3, 10, 0, 0, 0, TimeSpan.Zero);
        await fixture.Log.AppendAsync(ids.Select(id => new ImpactEvent($"{id}-1", id, EventType.Outage, start, "US", 1, null, new OutageData(4000, 500, 30))).ToList());

        var reports = await Task.WhenAll(ids.Select(id => fixture.Client.GetGrain<IEntityGrain>(id).GetImpactAsync(start.AddHours(1))));

        Assert.All(reports, r => Assert.Equal(1, r.EventCount)); // every one replayed its event from the log
        Assert.Equal(ids.Length, catalog.Finds);
        var silos = fixture.Cluster.Silos.Count;
        Assert.InRange(catalog.MostAtOnce, 1, Gate * silos);
    }

    [Fact]
    public async Task Snapshot_reads_wait_for_the_gate_and_writes_do_not()
    {
        var store = new SlowStorage();
        using var loads = new SemaphoreSlim(Gate);
        var gated = new LoadGatedGrainStorage(store, loads);
        var id = GrainId.Create("entity", "x");

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => gated.ReadStateAsync("s", id, new GrainState<int>())));
        Assert.Equal(Gate, store.MostReadsAtOnce);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => gated.WriteStateAsync("s", id, new GrainState<int>())));
        Assert.True(store.MostWritesAtOnce > Gate, $"writes were held to {store.MostWritesAtOnce} at once");
    }

    /// <summary>Counts how many reads are under way at once.</summary>
    private sealed class InFlight
    {
        private int current;
        private int most;

        public int Most => Volatile.Read(ref most);

        public async Task<T> Around<T>(Func<Task<T>> read)
        {
            var now = Interlocked.Increment(ref current);
            int seen;
            while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen)
            {
            }

            try
            {
                await Task.Delay(20); // slow enough that unbounded activations would overlap
                return await read();
            }
            finally
            {
                Interlocked.Decrement(ref current);
            }
        }
    }

    private sealed class SlowStorage : IGrainStorage
    {
        private readonly InFlight reads = new();
        private readonly InFlight writes = new();

        public int MostReadsAtOnce => reads.Most;

        public int MostWritesAtOnce => writes.Most;

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => reads.Around(() => Task.FromResult(0));

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => writes.Around(() => Task.FromResult(0));

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;
    }

    /// <summary>The real catalog, with entity lookups made slow and counted.</summary>
    private sealed class SlowCatalog
    {
        private readonly InFlight finds = new();
        private int count;

        public int MostAtOnce => finds.Most;

        public int Finds => Volatile.Read(ref count);

        public IEntityCatalog Wrapping(IEntityCatalog inner) => new Catalog(this, inner);

        private sealed class Catalog(SlowCatalog probe, IEntityCatalog inner) : IEntityCatalog
        {
            public Task<EntityRecord?> FindEntityAsync(string id, CancellationToken cancellationToken = default)
            {
                Interlocked.Increment(ref probe.count);
                return probe.finds.Around(() => inner.FindEntityAsync(id, cancellationToken));
            }

            public Task<bool> UpsertEntityAsync(string id, string name, EntityKind kind, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
                inner.UpsertEntityAsync(id, name, kind, tags, cancellationToken);

            public ValueTask<bool> ExistsAsync(string id, CancellationToken cancellationToken = default) => inner.ExistsAsync(id, cancellationToken);

            public Task<IReadOnlyList<EntityRecord>> ListEntitiesAsync(CancellationToken cancellationToken = default) => inner.ListEntitiesAsync(cancellationToken);

            public Task<IReadOnlyList<UpsertOutcome>> UpsertEntitiesAsync(IReadOnlyList<EntityInput> entities, CancellationToken cancellationToken = default) =>
                inner.UpsertEntitiesAsync(entities, cancellationToken);

            public Task<IReadOnlyList<EntityRecord>> PageEntitiesAsync(string? after, int limit, string? query, EntityKind? kind, CancellationToken cancellationToken = default) =>
                inner.PageEntitiesAsync(after, limit, query, kind, cancellationToken);

            public Task<IReadOnlyList<UpsertOutcome>> UpsertLinksAsync(IReadOnlyList<LinkRecord> links, CancellationToken cancellationToken = default) =>
                inner.UpsertLinksAsync(links, cancellationToken);

            public Task<bool> UpsertLinkAsync(LinkRecord link, CancellationToken cancellationToken = default) => inner.UpsertLinkAsync(link, cancellationToken);

            public Task<bool> DeleteLinkAsync(string from, string to, CancellationToken cancellationToken = default) => inner.DeleteLinkAsync(from, to, cancellationToken);

            public Task<IReadOnlyList<LinkRecord>> LinksOfAsync(string entity, CancellationToken cancellationToken = default) => inner.LinksOfAsync(entity, cancellationToken);

            public Task<bool> UpsertGroupAsync(string id, string name, GroupMethod method, IReadOnlyList<GroupMember> members, CancellationToken cancellationToken = default) =>
                inner.UpsertGroupAsync(id, name, method, members, cancellationToken);

            public Task<GroupRecord?> FindGroupAsync(string id, CancellationToken cancellationToken = default) => inner.FindGroupAsync(id, cancellationToken);

            public Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(string? after = null, int? limit = null, CancellationToken cancellationToken = default) => inner.ListGroupsAsync(after, limit, cancellationToken);
        }
    }
}
