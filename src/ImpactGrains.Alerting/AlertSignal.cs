namespace ImpactGrains.Alerting;

/// <summary>
/// What the alert evaluator judges: an entity's scores at <see cref="At"/>. <see cref="Categories"/> holds the four
/// category scores (operational, market, financial, reputational); <see cref="Groups"/> the ids of the groups the
/// entity belongs to; <see cref="Spike"/> is set when a spike of outage reports was detected for the entity.
/// </summary>
public sealed record AlertSignal(
    string Entity,
    string EntityKind,
    DateTimeOffset At,
    double Score,
    IReadOnlyDictionary<string, double> Categories,
    double Trend24h,
    IReadOnlyList<string> Groups,
    SpikeInfo? Spike)
{
    /// <summary>The <see cref="EntityKind"/> of a signal that carries a group's own score (<see cref="Entity"/> is then the group id).</summary>
    public const string GroupKind = "group";
}

/// <summary>The evidence of a detected spike: the report count against the learnt baseline of its region.</summary>
public sealed record SpikeInfo(string Region, long Reports, double BaselineMean, double BaselineStdDev, double ZScore);
