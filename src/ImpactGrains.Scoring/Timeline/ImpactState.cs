using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// The regions an entity's contributions came from, each with a fixed index: impact values are stored as flat arrays
/// (<see cref="ImpactValues"/>) rather than a dictionary per instant.
/// </summary>
public sealed class RegionTable
{
    private readonly List<string> names = [];
    private readonly Dictionary<string, int> indexes = new(StringComparer.Ordinal);

    public int Count => names.Count;

    public IReadOnlyList<string> Names => names;

    public int IndexOf(string region)
    {
        if (!indexes.TryGetValue(region, out var index))
        {
            indexes[region] = index = names.Count;
            names.Add(region);
        }

        return index;
    }
}

/// <summary>
/// Raw impact at one instant in one flat array: the direct impact by event type, the inherited impact by type, then the
/// impact (direct and inherited) of each region of a <see cref="RegionTable"/> by type. An array shorter than its
/// table holds zero for the regions added since it was made.
/// </summary>
public static class ImpactValues
{
    public const int Types = EventTypes.Count;
    public const int Direct = 0;
    public const int Inherited = Types;
    public const int FirstRegion = 2 * Types;

    public static int Length(int regions) => FirstRegion + regions * Types;

    public static int RegionOffset(int region) => FirstRegion + region * Types;

    /// <summary>Adds one contribution at its own instant.</summary>
    public static void Add(ref double[] values, in Contribution c, int region)
    {
        var t = (int)c.Type;
        if (values.Length < Length(region + 1))
        {
            Array.Resize(ref values, Length(region + 1));
        }

        values[(c.Own ? Direct : Inherited) + t] += c.Value;
        values[RegionOffset(region) + t] += c.Value;
    }

    /// <summary>Decays every value by its type's factor.</summary>
    public static void Decay(double[] values, ReadOnlySpan<double> factors)
    {
        for (var offset = 0; offset < values.Length; offset += Types)
        {
            for (var t = 0; t < Types; t++)
            {
                values[offset + t] *= factors[t];
            }
        }
    }

    /// <summary>values += other × factors (other decayed into values' instant).</summary>
    public static void AddDecayed(ref double[] values, double[] other, ReadOnlySpan<double> factors)
    {
        if (values.Length < other.Length)
        {
            Array.Resize(ref values, other.Length);
        }

        for (var offset = 0; offset < other.Length; offset += Types)
        {
            for (var t = 0; t < Types; t++)
            {
                values[offset + t] += other[offset + t] * factors[t];
            }
        }
    }

    public static double Total(double[] values)
    {
        var sum = 0.0;
        for (var i = 0; i < FirstRegion && i < values.Length; i++)
        {
            sum += values[i];
        }

        return sum;
    }

    public static void Factors(DecayTable table, long elapsedTicks, Span<double> factors)
    {
        for (var t = 0; t < Types; t++)
        {
            factors[t] = elapsedTicks == 0 ? 1 : table.DecayFactor((EventType)t, elapsedTicks);
        }
    }

    /// <summary>The values as an <see cref="ImpactVector"/>, regions that have decayed to nothing left out.</summary>
    public static ImpactVector ToVector(double[] values, long atTicks, RegionTable regions) =>
        ToVector(values, ReadOnlySpan<double>.Empty, atTicks, regions);

    /// <summary>
    /// The values decayed by <paramref name="factors"/> (one per type; empty: not decayed) as an <see cref="ImpactVector"/>:
    /// the products <see cref="Decay"/> would leave, written straight into the vector rather than into a copy of the
    /// values first (an entity reports its standing on every delivery, so the copy was garbage per event).
    /// </summary>
    public static ImpactVector ToVector(double[] values, ReadOnlySpan<double> factors, long atTicks, RegionTable regions)
    {
        var vector = new ImpactVector(atTicks);
        Copy(values, Direct, vector.Direct, factors);
        Copy(values, Inherited, vector.Inherited, factors);
        for (var r = 0; r < regions.Count && RegionOffset(r) < values.Length; r++)
        {
            var regional = new double[Types];
            Copy(values, RegionOffset(r), regional, factors);
            if (regional.Sum() > 0)
            {
                vector.Regions[regions.Names[r]] = regional;
            }
        }

        return vector;
    }

    private static void Copy(double[] values, int offset, double[] target, ReadOnlySpan<double> factors)
    {
        var count = Math.Min(Types, values.Length - offset);
        for (var t = 0; t < count; t++)
        {
            target[t] = factors.IsEmpty ? values[offset + t] : values[offset + t] * factors[t];
        }
    }
}

/// <summary>
/// An entity's exact state at one instant: raw impact (<see cref="ImpactValues"/>), its own events counted, and the
/// peak score reached at or before it. Advanced contribution by contribution in time order.
/// </summary>
public sealed class ImpactState
{
    private double[] values;

    public ImpactState(int regions = 0) => values = new double[ImpactValues.Length(regions)];

    private ImpactState(double[] values) => this.values = values;

    /// <summary>The instant the values are at; <see cref="long.MinValue"/> before any contribution.</summary>
    public long At { get; private set; } = long.MinValue;

    public double[] Values => values;

    public int OwnCount { get; private set; }

    public double PeakScore { get; private set; }

    /// <summary>When <see cref="PeakScore"/> was reached; <see cref="long.MinValue"/> for none.</summary>
    public long PeakTicks { get; private set; } = long.MinValue;

    public double Total => ImpactValues.Total(values);

    /// <summary>
    /// <see cref="Total"/> as it would be after <see cref="AdvanceTo"/>(<paramref name="ticks"/>), without changing or
    /// copying the state: the same products summed in the same order, so the same double.
    /// </summary>
    public double TotalAt(long ticks, DecayTable table)
    {
        if (At == long.MinValue || ticks <= At)
        {
            return Total;
        }

        Span<double> factors = stackalloc double[ImpactValues.Types];
        ImpactValues.Factors(table, ticks - At, factors);
        var sum = 0.0;
        for (var i = 0; i < ImpactValues.FirstRegion && i < values.Length; i++)
        {
            sum += values[i] * factors[i % ImpactValues.Types];
        }

        return sum;
    }

    public static ImpactState From(double[] values, long at, int ownCount, double peakScore, long peakTicks) =>
        new(values) { At = at, OwnCount = ownCount, PeakScore = peakScore, PeakTicks = peakTicks };

    public ImpactState Clone() => new((double[])values.Clone()) { At = At, OwnCount = OwnCount, PeakScore = PeakScore, PeakTicks = PeakTicks };

    /// <summary>Decays the values to a later instant.</summary>
    public void AdvanceTo(long ticks, DecayTable table)
    {
        if (At == long.MinValue || ticks <= At)
        {
            At = Math.Max(At, ticks);
            return;
        }

        Span<double> factors = stackalloc double[ImpactValues.Types];
        ImpactValues.Factors(table, ticks - At, factors);
        ImpactValues.Decay(values, factors);
        At = ticks;
    }

    /// <summary>Adds a contribution at <see cref="At"/> (the caller has advanced to it) and notes a new peak.</summary>
    public void Add(in Contribution c, int region, DecayTable table, bool trackPeak)
    {
        ImpactValues.Add(ref values, c, region);
        if (c.Own)
        {
            OwnCount++;
        }

        if (trackPeak)
        {
            // Impacts are never negative, so the score only rises at an instant: the last addition there is its peak.
            var score = table.ToScore(Total);
            if (score > PeakScore)
            {
                (PeakScore, PeakTicks) = (score, At);
            }
        }
    }

    /// <summary>Continues a peak computed elsewhere (recomputation after late events).</summary>
    public void SetPeak(double score, long ticks) => (PeakScore, PeakTicks) = (score, ticks);

    /// <summary>
    /// Adds one contribution from before <see cref="At"/>, decayed to it: what adding a state that holds only that
    /// contribution would do (the same two products), without building that state's array for every late event (a
    /// live feed's concurrent requests make most of them slightly late).
    /// </summary>
    public void AddDecayed(in Contribution c, int region, DecayTable table)
    {
        if (values.Length < ImpactValues.Length(region + 1))
        {
            Array.Resize(ref values, ImpactValues.Length(region + 1));
        }

        var t = (int)c.Type;
        var elapsed = At - c.Ticks;
        var factor = elapsed == 0 ? 1 : table.DecayFactor(c.Type, elapsed);
        values[(c.Own ? ImpactValues.Direct : ImpactValues.Inherited) + t] += c.Value * factor;
        values[ImpactValues.RegionOffset(region) + t] += c.Value * factor;
        if (c.Own)
        {
            OwnCount++;
        }
    }

    /// <summary>Adds another state's values, decayed to this state's instant (which must not precede it), and its own count.</summary>
    public void AddDecayed(double[] other, long otherAt, int ownCount, DecayTable table)
    {
        Span<double> factors = stackalloc double[ImpactValues.Types];
        ImpactValues.Factors(table, At - otherAt, factors);
        ImpactValues.AddDecayed(ref values, other, factors);
        OwnCount += ownCount;
    }
}
