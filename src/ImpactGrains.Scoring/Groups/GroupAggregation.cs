using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Groups;

/// <summary>How a group's members' scores combine into the group's score.</summary>
public enum GroupMethod : byte
{
    /// <summary>The worst-hit member's score: "how bad is it for anyone in the portfolio".</summary>
    Max,

    /// <summary>Σ weight × raw impact, saturated like an entity's score: trouble adds up across the portfolio.</summary>
    WeightedSum,

    /// <summary>
    /// 100 × (1 − Π(1 − weight × score/100)): each member's score read as an independent chance of harm; the group is
    /// hit if any member is.
    /// </summary>
    NoisyOr,
}

public static class GroupMethods
{
    public static string WireName(this GroupMethod method) => method switch
    {
        GroupMethod.Max => "max",
        GroupMethod.WeightedSum => "weighted-sum",
        GroupMethod.NoisyOr => "noisy-or",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
    };

    public static bool TryParse(string? name, out GroupMethod method) => WireNames.TryParse(name, WireName, out method);
}

/// <summary>A member's score at one instant and its weight in the group (0, 1].</summary>
public readonly record struct MemberScore(string Entity, double Weight, double Score);

/// <summary>The group's score, and how much of it each member accounts for (shares sum to 1 when the score is above 0).</summary>
public sealed record GroupScore(double Score, IReadOnlyDictionary<string, double> MemberShares);

public static class GroupAggregation
{
    public static GroupScore Combine(GroupMethod method, IReadOnlyList<MemberScore> members, DecayTable table)
    {
        if (members.Count == 0)
        {
            return new GroupScore(0, new Dictionary<string, double>());
        }

        switch (method)
        {
            case GroupMethod.Max:
            {
                var top = members.OrderByDescending(m => m.Weight * m.Score).ThenBy(m => m.Entity, StringComparer.Ordinal).First();
                var score = top.Weight * top.Score;
                return new GroupScore(score, Shares(members, m => m.Entity == top.Entity && score > 0 ? 1 : 0));
            }

            case GroupMethod.WeightedSum:
            {
                // Back from scores to raw impacts, add them up, and saturate once.
                var raws = members.ToDictionary(m => m.Entity, m => m.Weight * ToRaw(m.Score, table), StringComparer.Ordinal);
                var total = raws.Values.Sum();
                return new GroupScore(table.ToScore(total), Shares(members, m => total > 0 ? raws[m.Entity] / total : 0));
            }

            case GroupMethod.NoisyOr:
            {
                // Each member's −ln(1 − p) is its additive part of −ln(1 − group p).
                var logs = members.ToDictionary(m => m.Entity, m => -Math.Log(Math.Max(1e-300, 1 - Math.Clamp(m.Weight * m.Score / 100, 0, 1))), StringComparer.Ordinal);
                var total = logs.Values.Sum();
                var score = 100 * -double.ExpM1(-total);
                return new GroupScore(score, Shares(members, m => total > 0 ? logs[m.Entity] / total : 0));
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, null);
        }
    }

    private static Dictionary<string, double> Shares(IReadOnlyList<MemberScore> members, Func<MemberScore, double> share) =>
        members.ToDictionary(m => m.Entity, share, StringComparer.Ordinal);

    /// <summary>The raw impact behind a score: the inverse of <see cref="DecayTable.ToScore"/>.</summary>
    public static double ToRaw(double score, DecayTable table) =>
        score >= 100 ? double.MaxValue / 1e6 : -table.Model.Kappa * Math.Log(1 - score / 100);
}
