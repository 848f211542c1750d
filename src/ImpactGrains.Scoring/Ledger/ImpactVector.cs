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
