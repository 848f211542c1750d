using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Scoring.Ledger;

/// <summary>
/// Forward-decayed sums (Cormode, Shkapenyuk, Srivastava and Xu, ICDE 2009): per event type, Σ impact·2^((tₑ − L)/H)
/// against a landmark L. Adding an event is O(1) and the sum does not depend on arrival order, so the
/// impact at any instant t at or after the latest event is sum·2^((L − t)/H).
/// </summary>
/// <remarks>
/// The landmark is a whole multiple of <see cref="WindowHalfLives"/> half-lives, chosen from the latest event
/// time alone, so the exponent stays below 2^256 and the final landmark does not depend on arrival order.
/// </remarks>
public sealed class ForwardDecaySums
{
    public const int WindowHalfLives = 256;

    private readonly DecayTable table;
    private readonly double[] sums = new double[EventTypes.Count];
    private readonly long[] landmarks = new long[EventTypes.Count];
    private int usedTypes; // one bit per event type that has a landmark

    public ForwardDecaySums(DecayTable table) => this.table = table;

    public void Add(EventType type, long ticks, double impact)
    {
        var index = (int)type;
        var halfLife = table.HalfLifeTicks(type);
        var window = (long)(halfLife * WindowHalfLives);
        var landmark = ticks - Mod(ticks, window);
        var bit = 1 << index;
        if ((usedTypes & bit) == 0)
        {
            usedTypes |= bit;
            landmarks[index] = landmark;
        }
        else if (landmark > landmarks[index])
        {
            // Re-base to the later landmark so the exponent stays in range.
            sums[index] *= Math.Pow(2, (landmarks[index] - landmark) / halfLife);
            landmarks[index] = landmark;
        }

        sums[index] += impact * Math.Pow(2, (ticks - landmarks[index]) / halfLife);
    }

    /// <summary>The decayed impact of one type at <paramref name="atTicks"/>, which must not precede any added event.</summary>
    public double ValueAt(EventType type, long atTicks)
    {
        var index = (int)type;
        return (usedTypes & (1 << index)) == 0
            ? 0
            : sums[index] * Math.Pow(2, (landmarks[index] - atTicks) / table.HalfLifeTicks(type));
    }

    private static long Mod(long value, long modulus)
    {
        var r = value % modulus;
        return r < 0 ? r + modulus : r;
    }
}
