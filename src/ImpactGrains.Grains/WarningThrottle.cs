namespace ImpactGrains.Grains;

/// <summary>
/// Lets a warning that repeats once per entity or per request through at most once per interval, and counts the ones
/// it held back so that the next one says how many there were. When a silo died, every delivery to each of its ~500
/// entities, every request's share for it and Orleans' own retries each logged a warning, most with an exception's
/// stack trace (its file and line numbers read from the symbols): about 20,000 log lines on each survivor in the 20 s
/// after the kill, written by silos that had a tenth of a core to recover with.
/// </summary>
public sealed class WarningThrottle(TimeSpan interval, TimeProvider? time = null)
{
    private readonly TimeProvider time = time ?? TimeProvider.System;
    private long nextAllowed = long.MinValue;
    private int heldBack;

    /// <summary>
    /// True when this occurrence should be logged, with <paramref name="heldBackBefore"/> the occurrences held back
    /// since the last one logged; false (and counted) otherwise.
    /// </summary>
    public bool ShouldLog(out int heldBackBefore)
    {
        var now = time.GetTimestamp();
        var next = Volatile.Read(ref nextAllowed);
        var step = (long)(interval.TotalSeconds * time.TimestampFrequency);
        if (now >= next && Interlocked.CompareExchange(ref nextAllowed, now + step, next) == next)
        {
            heldBackBefore = Interlocked.Exchange(ref heldBack, 0);
            return true;
        }

        Interlocked.Increment(ref heldBack);
        heldBackBefore = 0;
        return false;
    }
}
