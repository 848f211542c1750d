using ImpactGrains.Abstractions;
using ImpactGrains.Grains.Ownership;
using ImpactGrains.Scoring.Events;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Xunit;

namespace ImpactGrains.Grains.Tests;

/// <summary>Entity ownership on the two-silo cluster: where entity grains live and who writes their events.</summary>
public sealed class OwnershipTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private SiloAddress[] Silos() => fixture.Cluster.GetActiveSilos().Select(s => s.SiloAddress).ToArray();

    [Fact]
    public async Task An_entity_reference_resolved_once_names_the_same_grain_as_Orleans_own_and_reaches_it()
    {
        var ours = fixture.Client.GetEntityGrain("reference-check");
        var orleans = fixture.Client.GetGrain<IEntityGrain>("reference-check");
        Assert.Equal(((GrainReference)orleans).GrainId, ((GrainReference)ours).GrainId);
        Assert.Equal(((GrainReference)orleans).InterfaceType, ((GrainReference)ours).InterfaceType);
        Assert.Equal(orleans, ours);
        Assert.NotEqual(((GrainReference)ours).GrainId, ((GrainReference)fixture.Client.GetEntityGrain("reference-other")).GrainId);
        Assert.Equal(0, (await ours.GetImpactAsync(DateTimeOffset.UtcNow)).Score);
    }

    [Fact]
    public async Task Entity_grains_activate_on_the_silo_that_owns_their_entity()
    {
        var ids = Enumerable.Range(0, 40).Select(i => $"owned-{i}").ToArray();
        await fixture.RegisterAsync(ids);
        foreach (var id in ids)
        {
            await fixture.Client.GetGrain<IEntityGrain>(id).GetImpactAsync(DateTimeOffset.UtcNow);
        }

        var silos = Silos();
        var placement = await fixture.PlacementAsync();
        foreach (var id in ids)
        {
            Assert.Equal(EntityOwnership.Owner(EntityOwnership.Hash(id), silos), placement[id]);
        }

        // Both silos own some of forty entities: the hash spreads them.
        Assert.Equal(2, ids.Select(id => placement[id]).Distinct().Count());
    }

    [Fact]
    public async Task A_batch_crosses_to_each_other_silo_once_and_every_event_is_numbered_by_its_owner()
    {
        var ids = Enumerable.Range(0, 30).Select(i => $"routed-{i}").ToArray();
        await fixture.RegisterAsync(ids);
        var silos = Silos();
        var first = fixture.Cluster.GetActiveSilos().First();
        var router = ((Orleans.TestingHost.InProcessSiloHandle)first).ServiceProvider.GetRequiredService<EventRouter>();
        var other = silos.Single(s => !s.Equals(first.SiloAddress)).ToParsableString();
        var writerCalls = ClusterFixture.CallCounter.Count("IEventWriterGrain.AppendAsync", key => key == other);

        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var events = Enumerable.Range(0, 300)
            .Select(i => new ImpactEvent($"routed-event-{i}", ids[i % ids.Length], EventType.Protest, at.AddSeconds(i), "DE", 1.0, null,
                new ProtestData(100, 1)))
            .ToList();
        var sequences = await router.AppendAsync(events);

        Assert.Equal(writerCalls + 1, ClusterFixture.CallCounter.Count("IEventWriterGrain.AppendAsync", key => key == other));
        // Every entity got 10 events numbered 1…10 in the order they came, whichever silo wrote them.
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(i / ids.Length + 1, sequences[i]);
        }

        // Posted again: every one a duplicate, nothing appended twice.
        Assert.All(await router.AppendAsync(events), s => Assert.Equal(0, s));
        foreach (var id in ids)
        {
            var logged = await fixture.Log.ReadEntityAsync(id, 0);
            Assert.Equal(Enumerable.Range(1, 10).Select(n => (long)n), logged.Select(e => e.EntitySequence));
        }
    }
}

/// <summary>The ownership function alone: how it spreads entities and what a silo leaving moves.</summary>
public sealed class EntityOwnershipTests
{
    private static readonly SiloAddress[] Four = Enumerable.Range(0, 4)
        .Select(i => SiloAddress.New(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 11111 + i), 100 + i))
        .ToArray();

    private static readonly string[] Entities = Enumerable.Range(0, 10_000).Select(i => $"company-{i}").ToArray();

    [Fact]
    public void Entities_spread_evenly_over_the_silos()
    {
        var shares = Entities.GroupBy(e => EntityOwnership.Owner(EntityOwnership.Hash(e), Four)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(4, shares.Count);
        Assert.All(shares.Values, n => Assert.InRange(n, 2_000, 3_000)); // a quarter each, ±20%
    }

    [Fact]
    public void A_silo_leaving_moves_only_its_own_entities()
    {
        var before = Entities.ToDictionary(e => e, e => EntityOwnership.Owner(EntityOwnership.Hash(e), Four));
        var survivors = Four.Where(s => !s.Equals(Four[2])).ToArray();
        foreach (var entity in Entities)
        {
            var after = EntityOwnership.Owner(EntityOwnership.Hash(entity), survivors);
            if (!before[entity].Equals(Four[2]))
            {
                Assert.Equal(before[entity], after);
            }
        }
    }

    [Fact]
    public void The_owner_does_not_depend_on_the_order_in_which_silos_are_listed()
    {
        var reversed = Four.Reverse().ToArray();
        Assert.All(Entities.Take(1_000), e => Assert.Equal(EntityOwnership.Owner(EntityOwnership.Hash(e), Four), EntityOwnership.Owner(EntityOwnership.Hash(e), reversed)));
    }

    [Fact]
    public void Placement_and_ingestion_hash_the_same_bytes()
    {
        // The placement director hashes the grain key's bytes, ingestion the entity string.
        Assert.Equal(EntityOwnership.Hash(System.Text.Encoding.UTF8.GetBytes("Tesla ünïcode")), EntityOwnership.Hash("Tesla ünïcode"));
    }
}
