using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Scoring.Model;

/// <summary>How much one event type weighs and how fast its impact fades.</summary>
/// <param name="Severity">The weight of a unit-magnitude event of this type.</param>
/// <param name="HalfLife">The time in which its impact halves.</param>
public sealed record EventTypeParameters(double Severity, TimeSpan HalfLife);

/// <summary>
/// Every parameter of the scoring model in one versioned definition. A change to any parameter is a new
/// model version; scores always say which version produced them.
/// </summary>
public sealed record ScoringModel
{
    /// <summary>The version name stated on every score.</summary>
    public required string Version { get; init; }

    /// <summary>Saturation scale: a raw impact of κ maps to a score of about 63.</summary>
    public double Kappa { get; init; } = 10;

    public required IReadOnlyDictionary<EventType, EventTypeParameters> Types { get; init; }

    /// <summary>Outage reports are measured against max(baselineReports, this floor).</summary>
    public double OutageBaselineFloor { get; init; } = 500;

    /// <summary>Each doubling of an outage's length (past one hour) adds this share of its size.</summary>
    public double OutageDurationWeight { get; init; } = 0.25;

    /// <summary>A cyberattack that is only claimed weighs this share of a confirmed one.</summary>
    public double ClaimedCyberattackFactor { get; init; } = 0.5;

    public double ProtestParticipantScale { get; init; } = 1000;

    /// <summary>Percentage drops are measured in units of this many percent (sales).</summary>
    public double SalesDropScale { get; init; } = 10;

    public double StockDropScale { get; init; } = 5;

    /// <summary>Net-worth losses are measured in units of this many percent of the previous net worth.</summary>
    public double NetWorthDropScale { get; init; } = 10;

    /// <summary>Without a net worth, a loss is measured against this many US dollars.</summary>
    public double NetWorthAbsoluteScaleUsd { get; init; } = 10e9;

    public required IReadOnlyDictionary<Severity, double> SeverityMagnitudes { get; init; }

    /// <summary>A detected incident's size is ln(1 + z / this): how far above its baseline the spike stood.</summary>
    public double IncidentZScale { get; init; } = 4;

    public static ScoringModel Default { get; } = new()
    {
        Version = "v1",
        Types = new Dictionary<EventType, EventTypeParameters>
        {
            [EventType.Outage] = new(1.0, TimeSpan.FromHours(12)),
            [EventType.Cyberattack] = new(2.0, TimeSpan.FromDays(3)),
            [EventType.Protest] = new(1.0, TimeSpan.FromDays(7)),
            [EventType.SalesChange] = new(3.0, TimeSpan.FromDays(30)),
            [EventType.StockChange] = new(2.0, TimeSpan.FromDays(5)),
            [EventType.NetWorthChange] = new(2.0, TimeSpan.FromDays(30)),
            [EventType.ProductFailure] = new(1.5, TimeSpan.FromDays(14)),
            [EventType.Statement] = new(1.0, TimeSpan.FromDays(3)),
            [EventType.Incident] = new(1.0, TimeSpan.FromHours(12)),
        },
        SeverityMagnitudes = new Dictionary<Severity, double>
        {
            [Severity.Minor] = 0.5,
            [Severity.Major] = 1.5,
            [Severity.Critical] = 3.0,
        },
    };

    /// <summary>
    /// The version name and a hash of every parameter. Stored state is only reused under the same identity, so two
    /// definitions that share a version name by mistake never mix their impacts.
    /// </summary>
    public string Identity
    {
        get
        {
            var text = string.Join(";",
                new[] { Version, Kappa.ToString("R", CultureInfo.InvariantCulture) }
                    .Concat(EventTypes.All.Select(t => $"{t.WireName()}={Types[t].Severity.ToString("R", CultureInfo.InvariantCulture)}/{Types[t].HalfLife.Ticks}"))
                    .Concat(Enum.GetValues<Severity>().Select(v => $"{v.WireName()}={SeverityMagnitudes[v].ToString("R", CultureInfo.InvariantCulture)}"))
                    .Concat(new[]
                    {
                        OutageBaselineFloor, OutageDurationWeight, ClaimedCyberattackFactor, ProtestParticipantScale,
                        SalesDropScale, StockDropScale, NetWorthDropScale, NetWorthAbsoluteScaleUsd, IncidentZScale,
                    }.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
            return $"{Version}#{Convert.ToHexStringLower(hash.AsSpan(0, 8))}";
        }
    }

    /// <summary>Checks that the definition is usable; returns the problems found.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Version)) problems.Add("Version must be set");
        if (!(Kappa > 0) || !double.IsFinite(Kappa)) problems.Add("Kappa must be a positive number");
        foreach (var type in EventTypes.All)
        {
            if (!Types.TryGetValue(type, out var p))
            {
                problems.Add($"Types.{type.WireName()} is missing");
                continue;
            }

            if (!(p.Severity >= 0) || !double.IsFinite(p.Severity)) problems.Add($"Types.{type.WireName()}.Severity must be ≥ 0");
            if (p.HalfLife < TimeSpan.FromMinutes(1)) problems.Add($"Types.{type.WireName()}.HalfLife must be at least one minute");
        }

        foreach (var severity in Enum.GetValues<Severity>())
        {
            if (!SeverityMagnitudes.TryGetValue(severity, out var m) || !(m >= 0)) problems.Add($"SeverityMagnitudes.{severity.WireName()} must be ≥ 0");
        }

        foreach (var (name, value) in new[]
                 {
                     (nameof(OutageBaselineFloor), OutageBaselineFloor), (nameof(ProtestParticipantScale), ProtestParticipantScale),
                     (nameof(SalesDropScale), SalesDropScale), (nameof(StockDropScale), StockDropScale),
                     (nameof(NetWorthDropScale), NetWorthDropScale), (nameof(NetWorthAbsoluteScaleUsd), NetWorthAbsoluteScaleUsd),
                     (nameof(IncidentZScale), IncidentZScale),
                 })
        {
            if (!(value > 0) || !double.IsFinite(value)) problems.Add($"{name} must be a positive number");
        }

        if (!(OutageDurationWeight >= 0)) problems.Add($"{nameof(OutageDurationWeight)} must be ≥ 0");
        if (ClaimedCyberattackFactor is < 0 or > 1 or double.NaN) problems.Add($"{nameof(ClaimedCyberattackFactor)} must lie in [0, 1]");
        return problems;
    }
}
