using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Scoring.Ledger;

/// <summary>
/// Raw (unsaturated) impact per event type at one instant, direct and inherited, and per region. Each type decays by
/// its own half-life, so the vector can be carried forward exactly to any later instant without the events behind
/// it: what leaderboard partitions keep per entity.
/// </summary>
public sealed class ImpactVector
{
    public ImpactVector(long atTicks, double[]? direct = null, double[]? inherited = null, Dictionary<string, double[]>? regions = null)
    {
        AtTicks = atTicks;
        Direct = direct ?? new double[EventTypes.Count];
        Inherited = inherited ?? new double[EventTypes.Count];
        Regions = regions ?? new Dictionary<string, double[]>(StringComparer.Ordinal);
    }

    public long AtTicks { get; }

    public double[] Direct { get; }

    public double[] Inherited { get; }

    /// <summary>Direct and inherited impact together, per region.</summary>
    public Dictionary<string, double[]> Regions { get; }

    public double DirectTotal => Direct.Sum();

    public double InheritedTotal => Inherited.Sum();

    public double Total => DirectTotal + InheritedTotal;

    public double[] RegionVector(string region)
    {
        if (!Regions.TryGetValue(region, out var vector))
        {
            Regions[region] = vector = new double[EventTypes.Count];
        }

        return vector;
    }

    public double Category(EventCategory category)
    {
        var sum = 0.0;
        foreach (var type in EventTypes.All)
        {
            if (EventTypes.CategoryOf(type) == category)
            {
                sum += Direct[(int)type] + Inherited[(int)type];
            }
        }

        return sum;
    }

    /// <summary>
    /// The scores of the impact decayed to a later instant: exactly what <see cref="DecayTo"/> followed by
    /// <see cref="DirectTotal"/>, <see cref="InheritedTotal"/>, <see cref="Category"/> and each region's sum give (the
    /// same products added in the same order), without building the decayed vector. Leaderboard partitions do this
    /// for every entity that changed, several times a second: the decayed copy was a third of their garbage.
    /// </summary>
    public ScoreBreakdown ScoresAt(long ticks, DecayTable table)
    {
        var elapsed = Math.Max(0, ticks - AtTicks);
        Span<double> factors = stackalloc double[EventTypes.Count];
        Span<double> decayed = stackalloc double[EventTypes.Count]; // direct + inherited, per type
        double direct = 0, inherited = 0;
        for (var i = 0; i < EventTypes.Count; i++)
        {
            factors[i] = table.DecayFactor((EventType)i, elapsed);
            var d = Direct[i] * factors[i];
            var h = Inherited[i] * factors[i];
            direct += d;
            inherited += h;
            decayed[i] = d + h;
        }

        var categories = new Dictionary<string, double>(EventTypes.Categories.Count, StringComparer.Ordinal);
        for (var k = 0; k < EventTypes.Categories.Count; k++)
        {
            var category = EventTypes.Categories[k];
            var sum = 0.0;
            for (var i = 0; i < EventTypes.All.Count; i++) // indexed: a foreach over the list allocates an enumerator
            {
                var type = EventTypes.All[i];
                if (EventTypes.CategoryOf(type) == category)
                {
                    sum += decayed[(int)type];
                }
            }

            categories[category.WireName()] = table.ToScore(sum);
        }

        var regions = new Dictionary<string, double>(Regions.Count, StringComparer.Ordinal);
        foreach (var (region, values) in Regions)
        {
            var sum = 0.0;
            for (var i = 0; i < values.Length; i++)
            {
                sum += values[i] * factors[i];
            }

            regions[region] = table.ToScore(sum);
        }

        return new ScoreBreakdown(table.ToScore(direct + inherited), table.ToScore(direct), table.ToScore(inherited), categories, regions);
    }

    /// <summary>The same impact, decayed to a later instant.</summary>
    public ImpactVector DecayTo(long ticks, DecayTable table)
    {
        var elapsed = Math.Max(0, ticks - AtTicks);
        double[] Decay(double[] values)
        {
            var result = new double[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                result[i] = values[i] * table.DecayFactor((EventType)i, elapsed);
            }

            return result;
        }

        return new ImpactVector(ticks, Decay(Direct), Decay(Inherited),
            Regions.ToDictionary(r => r.Key, r => Decay(r.Value), StringComparer.Ordinal));
    }
}

/// <summary>Scores (0–100) of one standing at one instant: the total, direct and inherited, and by category and region (wire names).</summary>
public sealed record ScoreBreakdown(
    double Score, double Direct, double Inherited, Dictionary<string, double> Categories, Dictionary<string, double> Regions);
