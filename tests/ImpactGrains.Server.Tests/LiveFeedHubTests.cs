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
