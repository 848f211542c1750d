using ImpactGrains.Scoring.Timeline;

namespace ImpactGrains.Scoring.Tests;

public sealed class InboundLinksTests
{
    private static InboundLinks Linked(params (string From, double Weight)[] links)
    {
        var sources = new InboundLinks();
        Assert.Equal(links.Length > 0, sources.Relink(links));
        return sources;
    }

    private static Dictionary<string, (double Weight, long Applied)> Contents(InboundLinks sources) =>
        sources.All.ToDictionary(s => s.From, s => (s.Weight, s.AppliedSequence));

    [Fact]
    public void The_same_links_again_only_mean_a_pull_and_keep_how_far_each_source_was_taken()
    {
        var sources = Linked(("a", 0.5), ("b", 1.0));
        sources.All.First(s => s.From == "a").AppliedSequence = 7;

        Assert.False(sources.Relink([("b", 1.0), ("a", 0.5)]));
        Assert.Equal(new Dictionary<string, (double, long)> { ["a"] = (0.5, 7), ["b"] = (1.0, 0) }, Contents(sources));
    }

    [Fact]
    public void An_added_link_needs_a_rebuild()
    {
        var sources = Linked(("a", 0.5));

        Assert.True(sources.Relink([("a", 0.5), ("c", 0.25)]));
        Assert.Equal(2, sources.Count);
        Assert.Equal((0.25, 0L), Contents(sources)["c"]);
    }

    [Fact]
    public void A_removed_link_needs_a_rebuild_and_its_source_is_gone()
    {
        var sources = Linked(("a", 0.5), ("b", 1.0));

        Assert.True(sources.Relink([("b", 1.0)]));
        Assert.Equal(["b"], sources.All.Select(s => s.From));
        Assert.True(sources.Relink([]));
        Assert.Equal(0, sources.Count);
        Assert.False(sources.Relink([]));
    }

    [Fact]
    public void A_reweighted_link_needs_a_rebuild_and_one_replaced_by_another_too()
    {
        var sources = Linked(("a", 0.5), ("b", 1.0));
        Assert.True(sources.Relink([("a", 0.75), ("b", 1.0)]));
        Assert.Equal(0.75, Contents(sources)["a"].Weight);

        // As many links as before, and the same weights: still another source.
        Assert.True(sources.Relink([("a", 0.75), ("c", 1.0)]));
        Assert.Equal(["a", "c"], sources.All.Select(s => s.From).Order());
    }

    [Fact]
    public void A_source_named_twice_takes_the_later_weight_and_is_unchanged_when_that_is_the_old_one()
    {
        var sources = Linked(("a", 0.5));

        Assert.False(sources.Relink([("a", 0.9), ("a", 0.5)]));
        Assert.True(sources.Relink([("a", 0.5), ("a", 0.9)]));
        Assert.Equal(0.9, Contents(sources)["a"].Weight);
    }

    [Fact]
    public void A_snapshot_restores_how_far_each_unchanged_link_was_taken()
    {
        var sources = Linked(("a", 0.5), ("b", 1.0));

        Assert.False(sources.Restore([("b", 1.0, 40L), ("a", 0.5, 12L)]));
        Assert.Equal(new Dictionary<string, (double, long)> { ["a"] = (0.5, 12), ["b"] = (1.0, 40) }, Contents(sources));
    }

    [Fact]
    public void A_snapshot_of_other_links_restores_only_what_still_holds_and_asks_for_a_rebuild()
    {
        // "a" reweighted since, "b" unchanged, "c" new, "d" unlinked since.
        var sources = Linked(("a", 0.5), ("b", 1.0), ("c", 0.3));

        Assert.True(sources.Restore([("a", 0.25, 12L), ("b", 1.0, 40L), ("d", 1.0, 9L)]));
        Assert.Equal(new Dictionary<string, (double, long)> { ["a"] = (0.5, 0), ["b"] = (1.0, 40), ["c"] = (0.3, 0) }, Contents(sources));

        // Fewer links than the snapshot had, each of them unchanged: a rebuild too (the unlinked one's events go).
        var fewer = Linked(("b", 1.0));
        Assert.True(fewer.Restore([("b", 1.0, 40L), ("d", 1.0, 9L)]));
        Assert.Equal(40, Contents(fewer)["b"].Applied);
    }

    [Fact]
    public void A_rebuild_sets_how_far_it_read_each_source_and_a_fresh_start_sets_nothing()
    {
        var sources = Linked(("a", 0.5), ("b", 1.0));
        sources.ApplyThrough(new Dictionary<string, long> { ["a"] = 5, ["x"] = 3 });
        Assert.Equal(new Dictionary<string, (double, long)> { ["a"] = (0.5, 5), ["b"] = (1.0, 0) }, Contents(sources));

        sources.ApplyFromStart();
        Assert.All(sources.All, s => Assert.Equal(0, s.AppliedSequence));
    }
}
