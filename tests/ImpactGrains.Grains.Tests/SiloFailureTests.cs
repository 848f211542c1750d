using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Grains.Tests;

/// <summary>Its own cluster, since it kills a silo.</summary>
public sealed class SiloFailureTests : IAsyncLifetime
{
    private readonly ClusterFixture fixture = new();

    public Task InitializeAsync() => fixture.InitializeAsync();

    public Task DisposeAsync() => fixture.DisposeAsync();

    [Fact]
    public async Task A_killed_silos_entities_recover_from_the_log_with_identical_scores()
    {
        var ids = Enumerable.Range(0, 16).Select(i => $"survivor-{i}").ToArray();
        await fixture.RegisterAsync(ids);
        await fixture.SpreadAsync(ids);
        var start = new DateTimeOffset(2025, 3, 10, 0, 0, 0, TimeSpan.Zero);
        foreach (var round in Enumerable.Range(0, 3))
        {
            await fixture.IngestAsync(ids.Select(id => new ImpactEvent(
                $"{id}-{round}", id, EventType.Outage, start + TimeSpan.FromHours(round * 3), "US", 1, null,
                new OutageData(1000 * (round + 1) + id.Length, 500, 30))).ToList());
        }

        var at = start + TimeSpan.FromDays(1);
        var before = new Dictionary<string, ImpactReport>();
        foreach (var id in ids)
        {
            before[id] = await fixture.Client.GetGrain<IEntityGrain>(id).GetImpactAsync(at);
        }

        var placement = await fixture.PlacementAsync();
        var victim = fixture.Cluster.Silos.First(s => !s.SiloAddress.Equals(fixture.Cluster.Silos[0].SiloAddress));
        var moved = ids.Where(id => placement[id].Equals(victim.SiloAddress)).ToList();
        Assert.NotEmpty(moved);

        await fixture.Cluster.KillSiloAsync(victim);
        await fixture.Cluster.WaitForLivenessToStabilizeAsync(didKill: true);

        foreach (var id in ids)
        {
            var after = await fixture.Client.GetGrain<IEntityGrain>(id).GetImpactAsync(at);
            Assert.Equal(before[id].Score, after.Score, 1e-9);
            Assert.Equal(before[id].Peak.Score, after.Peak.Score, 1e-9);
            Assert.Equal(3, after.EventCount);
        }

        var now = await fixture.PlacementAsync();
        Assert.All(moved, id => Assert.NotEqual(victim.SiloAddress, now[id]));
    }

    private sealed class RecordingObserver : ILiveFeedObserver
    {
        public int Received;

        public void OnMessages(IReadOnlyList<LiveMessage> messages) => Interlocked.Add(ref Received, messages.Count);
    }

    [Fact]
    public async Task The_live_feed_stops_sending_to_a_silo_the_cluster_declared_dead()
    {
        var victim = fixture.Cluster.Silos[^1];
        var survivor = fixture.Cluster.Silos[0];
        await fixture.Cluster.KillSiloAsync(victim);
        await fixture.Cluster.WaitForLivenessToStabilizeAsync(didKill: true);

        // Both observers live in the test's client; the feed knows them by the silo each says it serves.
        var onDead = new RecordingObserver();
        var onLive = new RecordingObserver();
        var feed = fixture.Client.GetGrain<ILiveFeedGrain>(0);
        await feed.SubscribeAsync(fixture.Client.CreateObjectReference<ILiveFeedObserver>(onDead), victim.SiloAddress);
        await feed.SubscribeAsync(fixture.Client.CreateObjectReference<ILiveFeedObserver>(onLive), survivor.SiloAddress);

        await feed.PublishAsync([LiveMessage.Unnumbered(new AlertFired("a1", "rule", "x", "score", "x", null, 90, 80, DateTimeOffset.UtcNow))]);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Volatile.Read(ref onLive.Received) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(1, Volatile.Read(ref onLive.Received));
        await Task.Delay(500); // sent at the same time as the other, had it been sent
        Assert.Equal(0, Volatile.Read(ref onDead.Received));
    }
}
