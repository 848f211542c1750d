using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Model;

/// <summary>Turns one event into its raw impact under a model: severity × magnitude × confidence.</summary>
public sealed class ImpactCalculator(ScoringModel model)
{
    public ScoringModel Model { get; } = model;

    public ScoredEvent Score(ImpactEvent e, long sequence) =>
        new(e.Id, sequence, e.Type, e.OccurredAt.UtcTicks, e.Region, Impact(e));

    public double Impact(ImpactEvent e) => Model.Types[e.Type].Severity * Magnitude(e.Data) * e.Confidence;

    /// <summary>
    /// The log-scaled size of an event. Gains (percent ≥ 0, deltaUsd ≥ 0) have no size: the score measures
    /// negative exposure only.
    /// </summary>
    public double Magnitude(EventData data) => data switch
    {
        OutageData o => Math.Log(1 + o.Reports / Math.Max(o.BaselineReports ?? 0, Model.OutageBaselineFloor))
                        * (1 + Model.OutageDurationWeight * Math.Log2(1 + (o.DurationMinutes ?? 0) / 60)),
        CyberattackData c => c.Claimed ? Model.ClaimedCyberattackFactor : 1,
        ProtestData p => Math.Log(1 + (p.Locations ?? 0)) + Math.Log(1 + (p.Participants ?? 0) / Model.ProtestParticipantScale),
        SalesChangeData s => Drop(s.Percent, Model.SalesDropScale),
        StockChangeData s => Drop(s.Percent, Model.StockDropScale),
        NetWorthChangeData n => NetWorthLoss(n),
        SeverityData s => Model.SeverityMagnitudes[s.Severity],
        // A resolution is news, not harm: only the detection carries impact.
        IncidentData i => i.Status == IncidentStatus.Detected ? Math.Log(1 + Math.Max(0, i.ZScore) / Model.IncidentZScale) : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(data), data, "unknown event data"),
    };

    private static double Drop(double percent, double scale) => percent >= 0 ? 0 : Math.Log(1 + -percent / scale);

    private double NetWorthLoss(NetWorthChangeData n)
    {
        if (n.DeltaUsd >= 0)
        {
            return 0;
        }

        var loss = -n.DeltaUsd;
        if (n.NetWorthUsd is { } after && after + loss > 0)
        {
            // netWorthUsd is the worth after the change, so the loss is measured against the worth before it.
            var percent = 100 * loss / (after + loss);
            return Math.Log(1 + percent / Model.NetWorthDropScale);
        }

        return Math.Log(1 + loss / Model.NetWorthAbsoluteScaleUsd);
    }
}
