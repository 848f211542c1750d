using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Model;

namespace ImpactGrains.Scoring.Ledger;

/// <summary>Half-lives per event type, in ticks, and the saturating map from raw impact to a 0–100 score.</summary>
public sealed class DecayTable
{
    private readonly double[] halfLifeTicks = new double[EventTypes.Count];

    public DecayTable(ScoringModel model)
    {
        Model = model;
        foreach (var type in EventTypes.All)
        {
            halfLifeTicks[(int)type] = model.Types[type].HalfLife.Ticks;
        }
    }

    public ScoringModel Model { get; }

    public double HalfLifeTicks(EventType type) => halfLifeTicks[(int)type];

    /// <summary>The factor by which an impact of this type has faded after <paramref name="elapsedTicks"/>.</summary>
    public double DecayFactor(EventType type, double elapsedTicks) => Math.Pow(2, -elapsedTicks / halfLifeTicks[(int)type]);

    /// <summary>Maps a raw impact S ≥ 0 to a score in [0, 100]: 100·(1 − e^(−S/κ)), bounded and saturating.</summary>
    public double ToScore(double raw) => raw <= 0 ? 0 : 100 * -double.ExpM1(-raw / Model.Kappa);
}
