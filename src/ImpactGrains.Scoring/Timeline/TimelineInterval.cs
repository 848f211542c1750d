namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// What a timeline keeps in memory of one sealed stretch of its past, the contributions with ticks in (previous end,
/// <see cref="EndTicks"/>]: where it lies, how many it holds, and the peak through it. Forty bytes, one per about 64
/// contributions. The stretch's sums (its delta, <see cref="ImpactValues"/> decayed to <see cref="EndTicks"/>) are
/// kept apart, in pages of <see cref="TimelineCodec.ChunkSize"/> intervals that the timeline reads back from the
/// timeline store when a query needs them (docs/scoring.md#state-model).
/// </summary>
public struct TimelineInterval(long endTicks, long minTicks, int count, int ownCount, double peakScore, long peakTicks)
{
    /// <summary>Every contribution at this instant or before, back to the previous interval's end, is in this interval.</summary>
    public long EndTicks { get; } = endTicks;

    /// <summary>The earliest contribution in the interval: before it, the state is the previous end's, decayed.</summary>
    public long MinTicks { get; internal set; } = minTicks;

    public int Count { get; internal set; } = count;

    /// <summary>The entity's own events among them.</summary>
    public int OwnCount { get; internal set; } = ownCount;

    /// <summary>The highest score at or before <see cref="EndTicks"/>, and when; valid only while the timeline says so.</summary>
    public double PeakScore { get; internal set; } = peakScore;

    public long PeakTicks { get; internal set; } = peakTicks;
}

/// <summary>
/// Where a timeline reads back the sealed intervals it no longer holds in memory: the chunks that
/// <see cref="TimelineCodec.WriteChunk"/> wrote, as last persisted. The timeline lets go of a chunk only once it has
/// been told it is persisted (<see cref="EntityTimeline.MarkPersisted"/>), so what this returns is what it let go of.
/// </summary>
public interface ISealedChunkReader
{
    /// <summary>The chunk's bytes; null when the store no longer has that version (a newer one was written meanwhile).</summary>
    ValueTask<byte[]?> ReadChunkAsync(int chunk, CancellationToken cancellationToken = default);
}
