using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Timeline;

namespace ImpactGrains.Scoring.Tests;

public sealed class EntityLiveStateTests
{
    private const string Entity = "acme";
    private static readonly DecayTable Table = new(ScoringModel.Default);
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static EntityTimeline NewTimeline() => new(Entity, Table, new TimelineOptions());

    private static ScoredEvent Event(long sequence, double impact = 2.0) =>
        new($"e-{sequence}", sequence, EventType.StockChange, Start.AddMinutes(sequence).UtcTicks, "US", impact);

    private static EntityLiveState Started(long answerVersion = 1_000)
    {
        var live = new EntityLiveState(Entity, answerVersion);
        live.Start(NewTimeline(), 0);
        return live;
    }

    private static void AssertSameVector(EntityTimeline expected, EntityTimeline actual)
    {
        var at = Start.AddDays(1).UtcTicks;
        Assert.Equal(expected.VectorAt(at).Direct, actual.VectorAt(at).Direct);
        Assert.Equal(expected.VectorAt(at).Inherited, actual.VectorAt(at).Inherited);
    }

    [Fact]
    public void Own_events_go_into_the_timeline_in_sequence_and_each_moves_the_answer_version()
    {
        var live = Started(answerVersion: 1_000);
        var reference = NewTimeline();
        for (var s = 1; s <= 3; s++)
        {
            live.ApplyOwn(Event(s));
            reference.Add(Contribution.OwnEvent(Event(s), Entity));
        }

        Assert.Equal((3L, 1_003L, 3), (live.AppliedSequence, live.AnswerVersion, live.Timeline.Count));
        AssertSameVector(reference, live.Timeline);
        Assert.True(live.TryGetOwnAfter(1, out var after));
        Assert.Equal([2L, 3L], after.Select(e => e.Sequence));
        Assert.True(live.TryGetOwnAfter(3, out var none));
        Assert.Empty(none);
    }

    [Fact]
    public void A_puller_behind_the_recent_events_is_told_to_read_the_log()
    {
        var live = Started();
        for (var s = 1; s <= 4_100; s++)
        {
            live.ApplyOwn(Event(s));
        }

        Assert.False(live.TryGetOwnAfter(3, out _));
        Assert.True(live.TryGetOwnAfter(4, out var held));
        Assert.Equal(4_096, held.Count);
        Assert.Equal(5, held[0].Sequence);
    }

    [Fact]
    public void An_inherited_event_counts_once_at_its_links_weight()
    {
        var live = Started(answerVersion: 10);
        var source = new InboundLink("parent", 0.5);
        var reference = NewTimeline();

        Assert.True(live.Inherit(Event(1, 4.0), source));
        Assert.True(live.Inherit(Event(2, 4.0), source));
        Assert.False(live.Inherit(Event(2, 4.0), source)); // pulled again
        Assert.False(live.Inherit(Event(1, 4.0), source));
        reference.Add(Contribution.InheritedEvent(Event(1, 4.0), "parent", 0.5));
        reference.Add(Contribution.InheritedEvent(Event(2, 4.0), "parent", 0.5));

        Assert.Equal((2L, 12L, 2), (source.AppliedSequence, live.AnswerVersion, live.Timeline.Count));
        Assert.Equal(0, live.AppliedSequence); // not the entity's own
        AssertSameVector(reference, live.Timeline);
        Assert.All(live.Timeline.VectorAt(Start.AddDays(1).UtcTicks).Direct, d => Assert.Equal(0, d));
    }

    [Fact]
    public void A_rebuilt_timeline_takes_over_from_its_own_sequence_and_drops_the_recent_events()
    {
        var live = Started(answerVersion: 50);
        for (var s = 1; s <= 5; s++)
        {
            live.ApplyOwn(Event(s));
        }

        var rebuilt = NewTimeline();
        rebuilt.Add(Contribution.OwnEvent(Event(1), Entity));
        rebuilt.Add(Contribution.OwnEvent(Event(2), Entity));
        live.TakeOver(rebuilt, 2);

        Assert.Same(rebuilt, live.Timeline);
        Assert.Equal((2L, 56L), (live.AppliedSequence, live.AnswerVersion));
        Assert.False(live.TryGetOwnAfter(1, out _)); // the recent events went with the old timeline

        live.ApplyOwn(Event(3));
        Assert.True(live.TryGetOwnAfter(2, out var caughtUp));
        Assert.Equal([3L], caughtUp.Select(e => e.Sequence));
        Assert.Equal(3, rebuilt.Count);
    }

    [Fact]
    public void Starting_from_a_restored_timeline_changes_no_answer_version()
    {
        var restored = NewTimeline();
        restored.Add(Contribution.OwnEvent(Event(1), Entity));
        var live = new EntityLiveState(Entity, 7);

        live.Start(restored, 1);

        Assert.Same(restored, live.Timeline);
        Assert.Equal((1L, 7L), (live.AppliedSequence, live.AnswerVersion));
        Assert.False(live.TryGetOwnAfter(0, out _)); // restored events are not held: pullers read the log
    }
}
