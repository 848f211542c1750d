using ImpactGrains.Scoring.Timeline;

namespace ImpactGrains.Scoring.Tests;

public sealed class TimelineChunkBookTests
{
    private const int Size = TimelineCodec.ChunkSize;

    /// <summary>Sealed intervals in chunks 0, 1 and 2 changed.</summary>
    private static readonly int[] ThreeChunks = [0, 5, Size, 2 * Size + 1];

    private static int Version(TimelineChunkBook book, int chunk) =>
        book.TryGetVersion(book.Generation, chunk, out var version) ? version : -1;

    [Fact]
    public void A_first_write_stores_every_changed_chunk_at_version_one_and_names_it_once_stored()
    {
        var book = new TimelineChunkBook("m#1/a");
        var write = book.PlanWrite(ThreeChunks, 2 * Size + 2);

        Assert.Equal(("m#1/a", 1), (write.Generation, write.Version));
        Assert.Equal([0, 1, 2], write.Chunks);
        Assert.Equal([1, 1, 1], write.ChunkVersions);
        Assert.True(book.HasUnsaved);
        Assert.Empty(book.Versions); // planned, not stored

        Assert.True(book.Commit(write));
        Assert.False(book.HasUnsaved);
        Assert.Equal(1, book.SaveNumber);
        Assert.Equal([1, 1, 1], book.Versions);
    }

    [Fact]
    public void A_later_write_stores_only_the_changed_chunks_and_names_the_rest_at_their_stored_versions()
    {
        var book = new TimelineChunkBook("g");
        book.Commit(book.PlanWrite(ThreeChunks, 3 * Size));

        // Chunk 1 changed again (a late event), and the timeline sealed intervals of a fourth and fifth chunk.
        var write = book.PlanWrite([Size + 3, 4 * Size], 4 * Size + 1);
        Assert.Equal(2, write.Version);
        Assert.Equal([1, 4], write.Chunks);
        Assert.Equal([1, 2, 1, 0, 2], write.ChunkVersions);

        Assert.True(book.Commit(write));
        Assert.Equal([1, 2, 1, 0, 2], book.Versions);
        Assert.Equal(2, Version(book, 1));
    }

    [Fact]
    public void A_failed_write_is_written_again_by_the_next_at_the_same_version_with_what_changed_since()
    {
        var book = new TimelineChunkBook("g");
        book.Commit(book.PlanWrite([0], Size));

        var failed = book.PlanWrite([Size], 2 * Size);
        Assert.Equal(2, failed.Version);
        Assert.Equal([1], failed.Chunks);

        var retry = book.PlanWrite([0], 2 * Size);
        Assert.Equal(2, retry.Version);
        Assert.Equal([0, 1], retry.Chunks);
        Assert.Equal([2, 2], retry.ChunkVersions);
        Assert.Equal([1], book.Versions);
        Assert.Equal(1, book.SaveNumber);

        Assert.True(book.Commit(retry));
        Assert.False(book.HasUnsaved);
        Assert.Equal([2, 2], book.Versions);
    }

    [Fact]
    public void A_chunk_changed_while_a_write_was_under_way_stays_unsaved()
    {
        var book = new TimelineChunkBook("g");
        var write = book.PlanWrite([0], Size);

        // Taken by the next plan only; the write under way did not have it.
        var next = book.PlanWrite([Size], 2 * Size);
        Assert.True(book.Commit(write));
        Assert.True(book.HasUnsaved);
        Assert.Equal([0, 1], next.Chunks);
    }

    [Fact]
    public void A_rebuild_starts_a_new_generation_with_every_chunk_to_write_and_a_write_of_the_old_one_commits_nothing()
    {
        var book = new TimelineChunkBook("m#1/old");
        book.Commit(book.PlanWrite(ThreeChunks, 3 * Size));
        var underWay = book.PlanWrite([0], 3 * Size);

        book.StartOver("m#1/new", [], 2 * Size + 1);
        Assert.Equal(("m#1/new", 0), (book.Generation, book.SaveNumber));
        Assert.Empty(book.Versions);
        Assert.True(book.HasUnsaved);
        Assert.False(book.TryGetVersion("m#1/old", 0, out _));

        Assert.False(book.Commit(underWay));
        Assert.Equal(0, book.SaveNumber);
        Assert.Empty(book.Versions);

        var first = book.PlanWrite([], 2 * Size + 1);
        Assert.Equal(("m#1/new", 1), (first.Generation, first.Version));
        Assert.Equal([0, 1, 2], first.Chunks);
        Assert.True(book.Commit(first));
        Assert.Equal([1, 1, 1], book.Versions);
    }

    [Fact]
    public void A_rebuilt_timeline_is_due_for_a_snapshot_until_one_of_its_own_generation_is_stored()
    {
        var book = new TimelineChunkBook("m#1/old");
        Assert.False(book.RebuiltSinceStored); // a new entity's book: nothing to store until it has enough changes
        var underWay = book.PlanWrite([], 0);

        // A rebuild too small to seal an interval has no chunk to write, yet no stored snapshot names its generation.
        book.StartOver("m#1/new", [], 0);
        Assert.False(book.HasUnsaved);
        Assert.True(book.RebuiltSinceStored);
        Assert.False(book.Commit(underWay));
        Assert.True(book.RebuiltSinceStored);
        Assert.True(book.Commit(book.PlanWrite([], 0)));
        Assert.False(book.RebuiltSinceStored);
    }

    [Fact]
    public void A_restored_book_names_the_snapshots_versions_and_goes_on_from_its_save_number()
    {
        var book = new TimelineChunkBook("fresh");
        int[] saved = [3, 1, 4];
        book.Restore("m#2/x", saved, 4);
        saved[0] = 99; // the snapshot's array is not the book's

        Assert.True(book.TryGetVersion("m#2/x", 0, out var version));
        Assert.Equal(3, version);
        Assert.False(book.TryGetVersion("m#2/x", 3, out _));
        Assert.False(book.TryGetVersion("fresh", 0, out _));
        Assert.False(book.HasUnsaved);

        var write = book.PlanWrite([2 * Size], 3 * Size);
        Assert.Equal(5, write.Version);
        Assert.Equal([3, 1, 5], write.ChunkVersions);
    }

    [Fact]
    public void Generations_are_named_by_the_model_and_unique_to_each_build()
    {
        var a = TimelineChunkBook.NewGeneration("default#abc");
        var b = TimelineChunkBook.NewGeneration("default#abc");

        Assert.StartsWith("default#abc/", a);
        Assert.NotEqual(a, b);
    }
}
