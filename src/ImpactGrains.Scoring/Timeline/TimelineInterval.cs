namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// A sealed stretch of an entity's timeline: the contributions with ticks in (previous end, <see cref="EndTicks"/>],
/// summed and decayed to <see cref="EndTicks"/> (<see cref="Delta"/>). What the timeline persists of its past (the
/// checkpoints): the state at any interval's end is the running sum of the deltas, and a late event changes only the
/// interval it falls in.
/// </summary>
public sealed class TimelineInterval
{
    public TimelineInterval(long endTicks, long minTicks, int count, int ownCount, double[] delta, double peakScore, long peakTicks)
    {
        EndTicks = endTicks;
        MinTicks = minTicks;
        Count = count;
        OwnCount = ownCount;
        Delta = delta;
        PeakScore = peakScore;
        PeakTicks = peakTicks;
    }

    /// <summary>Every contribution at this instant or before, back to the previous interval's end, is in this interval.</summary>
    public long EndTicks { get; }

    /// <summary>The earliest contribution in the interval: before it, the state is the previous end's, decayed.</summary>
    public long MinTicks { get; internal set; }

    public int Count { get; internal set; }

    /// <summary>The entity's own events among them.</summary>
    public int OwnCount { get; internal set; }

    /// <summary>The interval's contributions as raw impact at <see cref="EndTicks"/> (<see cref="ImpactValues"/>).</summary>
    public double[] Delta { get; internal set; }

    /// <summary>The highest score at or before <see cref="EndTicks"/>, and when; valid only while the timeline says so.</summary>
    public double PeakScore { get; internal set; }

    public long PeakTicks { get; internal set; }

    /// <summary>The running state at this interval's end, derived from the deltas; null until computed or after a late event before it.</summary>
    internal ImpactState? Cumulative { get; set; }
}
