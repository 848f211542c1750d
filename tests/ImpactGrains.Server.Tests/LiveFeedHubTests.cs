using System.Reflection;
using ImpactGrains.Abstractions;
using ImpactGrains.Server.Live;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Tests;

/// <summary>The per-silo hub in isolation: its buffering decisions, without a cluster.</summary>
public sealed class LiveFeedHubTests
{
    private static LiveFeedHub Hub(int clientBuffer = 4, int replay = 8) =>
        new(null!, null!, Options.Create(new LiveFeedOptions { ClientBuffer = clientBuffer, ReplayBuffer = replay }), NullLogger<LiveFeedHub>.Instance);

    private static LiveMessage Message(long id, string epoch = "e1", string entity = "x") =>
        new(epoch, id, new ScoreChanged(entity, entity, "company", DateTimeOffset.UnixEpoch, 1, 1, 0, new Dictionary<string, double>(), new Dictionary<string, double>()));

    [Fact]
    public void A_slow_client_is_dropped_with_a_reason_instead_of_buffering_without_bound()
    {
        var hub = Hub(clientBuffer: 4);
        var client = hub.Connect(_ => true, null, out _)!;
        hub.OnMessages(Enumerable.Range(1, 10).Select(i => Message(i)).ToList());

        var received = new List<LiveMessage>();
        while (client.Messages.TryRead(out var m))
        {
            received.Add(m);
        }

        Assert.Equal([1L, 2, 3, 4], received.Select(m => m.Id));
        Assert.True(client.Messages.Completion.IsCompleted);
        Assert.Contains("fell more than 4 messages behind", client.CloseReason);
        Assert.Equal(0, hub.ClientCount);
    }

    [Fact]
    public void Resumption_replays_only_what_followed_and_only_within_the_buffer_and_epoch()
    {
        var hub = Hub(clientBuffer: 100, replay: 8);
        hub.OnMessages(Enumerable.Range(1, 12).Select(i => Message(i)).ToList()); // the buffer keeps 5–12

        var resumed = hub.Connect(_ => true, "e1-9", out var ok)!;
        Assert.True(ok);
        Assert.Equal([10L, 11, 12], Drain(resumed));

        hub.Connect(_ => true, "e1-2", out var tooOld);
        Assert.False(tooOld);
        hub.Connect(_ => true, "other-11", out var otherEpoch);
        Assert.False(otherEpoch);
    }

    [Fact]
    public void Filters_apply_to_live_and_replayed_messages()
    {
        var hub = Hub(clientBuffer: 100);
        hub.OnMessages([Message(1, entity: "a"), Message(2, entity: "b")]);
        var client = hub.Connect(m => m.Entity == "b", "e1-0", out _)!;
        hub.OnMessages([Message(3, entity: "a"), Message(4, entity: "b")]);
        Assert.Equal([2L, 4], Drain(client));
    }

    private sealed class CountingFeed : ILiveFeedGrain
    {
        private int subscribes;
        private int unsubscribes;

        public int Subscribes => Volatile.Read(ref subscribes);

        public int Unsubscribes => Volatile.Read(ref unsubscribes);

        public Task PublishAsync(IReadOnlyList<LiveMessage> messages) => throw new NotSupportedException();

        public Task<bool> HasScoreAudienceAsync() => throw new NotSupportedException();

        public Task SubscribeAsync(ILiveFeedObserver observer, SiloAddress silo)
        {
            Interlocked.Increment(ref subscribes);
            return Task.CompletedTask;
        }

        public Task UnsubscribeAsync(ILiveFeedObserver observer)
        {
            Interlocked.Increment(ref unsubscribes);
            return Task.CompletedTask;
        }
    }

    /// <summary>A grain factory that knows the feed, and makes the hub its own observer reference.</summary>
    public class FeedOnlyFactory : DispatchProxy
    {
        internal object? Feed { get; set; }

        protected override object? Invoke(MethodInfo? method, object?[]? args) => method?.Name switch
        {
            nameof(IGrainFactory.GetGrain) => Feed,
            nameof(IGrainFactory.CreateObjectReference) => args![0],
            nameof(IGrainFactory.DeleteObjectReference) => null,
            _ => throw new NotSupportedException(method?.Name),
        };
    }

    /// <summary>Silo details of which the hub reads only the address (null here: the fake feed ignores it).</summary>
    public class NoSiloDetails : DispatchProxy
    {
        protected override object? Invoke(MethodInfo? method, object?[]? args) => null;
    }

    [Fact]
    public async Task A_silo_receives_the_feed_only_while_it_has_stream_clients_and_a_while_after()
    {
        var feed = new CountingFeed();
        var factory = DispatchProxy.Create<IGrainFactory, FeedOnlyFactory>();
        ((FeedOnlyFactory)(object)factory).Feed = feed;
        var hub = new LiveFeedHub(factory, DispatchProxy.Create<ILocalSiloDetails, NoSiloDetails>(),
            Options.Create(new LiveFeedOptions { IdleAfter = TimeSpan.FromMilliseconds(300) }), NullLogger<LiveFeedHub>.Instance);
        await hub.StartAsync(CancellationToken.None);
        try
        {
            // No client: no subscription.
            await Task.Delay(400);
            Assert.Equal(0, feed.Subscribes);

            // The first client subscribes the silo; the stream waits for that before it starts.
            var client = hub.Connect(_ => true, null, out _)!;
            await hub.WhenReceivingAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.Equal(1, feed.Subscribes);
            hub.OnMessages([Message(1), Message(2)]);
            hub.Connect(_ => true, "e1-1", out var resumedWhileObserving)!.Detach();
            Assert.True(resumedWhileObserving);

            // The last client leaves: after the idle time the silo unsubscribes and forgets what it buffered, since what
            // follows will not reach it.
            client.Detach();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (feed.Unsubscribes == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.Equal(1, feed.Unsubscribes);

            // Messages the feed had sent before it took the unsubscription are not buffered after the gap either.
            hub.OnMessages([Message(3), Message(4)]);
            hub.Connect(_ => true, "e1-3", out var resumedFromLateMessages)!.Detach();
            Assert.False(resumedFromLateMessages);

            var late = hub.Connect(_ => true, "e1-1", out var resumedAfterGap)!;
            Assert.False(resumedAfterGap);
            await hub.WhenReceivingAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.True(feed.Subscribes >= 2, $"{feed.Subscribes} subscriptions"); // subscribed again for the new clients
            late.Detach();
        }
        finally
        {
            await hub.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void A_gap_in_the_numbering_empties_the_replay_buffer()
    {
        var hub = Hub(clientBuffer: 100, replay: 8);
        hub.OnMessages([Message(1), Message(2), Message(5), Message(6)]);
        hub.Connect(_ => true, "e1-2", out var acrossTheGap);
        Assert.False(acrossTheGap);
        var client = hub.Connect(_ => true, "e1-5", out var afterTheGap)!;
        Assert.True(afterTheGap);
        Assert.Equal([6L], Drain(client));
    }

    private static List<long> Drain(LiveClient client)
    {
        var ids = new List<long>();
        while (client.Messages.TryRead(out var m))
        {
            ids.Add(m.Id);
        }

        return ids;
    }
}
