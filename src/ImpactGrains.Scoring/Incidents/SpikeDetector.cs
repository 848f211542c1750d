namespace ImpactGrains.Scoring.Incidents;

/// <summary>The parameters of outage spike detection.</summary>
public sealed record SpikeDetectorOptions
{
    /// <summary>EWMA weight of a new observation in the baseline mean and variance.</summary>
    public double Alpha { get; init; } = 0.1;

    /// <summary>Observations that only train the baseline before any spike can be declared.</summary>
    public int WarmUp { get; init; } = 12;

    /// <summary>How many baseline standard deviations above the mean count as abnormal.</summary>
    public double ZThreshold { get; init; } = 4;

    /// <summary>How many abnormal observations in a row declare an incident.</summary>
    public int Consecutive { get; init; } = 2;

    /// <summary>
    /// An incident resolves after this long without an abnormal observation, and no new incident is declared
    /// within this long of the last resolution.
    /// </summary>
    public TimeSpan CoolDown { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The smallest standard deviation assumed, in reports, so that a near-constant baseline does not make every
    /// small wobble a spike.
    /// </summary>
    public double MinStdDev { get; init; } = 5;
}

public enum SpikeTransition : byte
{
    Detected,
    Resolved,
}

/// <summary>A change of incident state, with the evidence behind it.</summary>
/// <param name="At">When the observation that caused the change was made.</param>
/// <param name="Reports">The report count of that observation.</param>
/// <param name="StartedAt">When the incident was detected.</param>
/// <param name="PeakReports">The highest report count during the incident.</param>
public sealed record SpikeSignal(
    SpikeTransition Transition,
    DateTimeOffset At,
    long Reports,
    double BaselineMean,
    double BaselineStdDev,
    double ZScore,
    DateTimeOffset StartedAt,
    long PeakReports);

/// <summary>The detector's whole state, so that it can be snapshotted and restored.</summary>
public sealed record SpikeDetectorState(
    int Observations,
    double Mean,
    double Variance,
    int AbnormalInARow,
    DateTimeOffset? IncidentStartedAt,
    long IncidentPeakReports,
    DateTimeOffset? LastAbnormalAt,
    DateTimeOffset? LastResolvedAt);

/// <summary>
/// Downdetector-style spike detection on one entity's outage report counts in one region: an exponentially weighted
/// baseline (mean and variance) learned over a warm-up, an incident when the z-score stays above a threshold for
/// several observations in a row, and a resolution after a cool-down without abnormal observations. Abnormal
/// observations are kept out of the baseline so that a long incident does not teach it that outages are normal.
/// </summary>
public sealed class SpikeDetector(SpikeDetectorOptions options, SpikeDetectorState? state = null)
{
    private SpikeDetectorState s = state ?? new SpikeDetectorState(0, 0, 0, 0, null, 0, null, null);

    public SpikeDetectorState State => s;

    public bool InIncident => s.IncidentStartedAt is not null;

    /// <summary>Feeds one observation (in time order); returns a transition when one happens.</summary>
    public SpikeSignal? Observe(DateTimeOffset at, long reports)
    {
        var stdDev = Math.Max(Math.Sqrt(s.Variance), options.MinStdDev);
        var z = s.Observations == 0 ? 0 : (reports - s.Mean) / stdDev;
        var warm = s.Observations >= options.WarmUp;
        var abnormal = warm && z >= options.ZThreshold;

        if (InIncident)
        {
            if (abnormal)
            {
                s = s with { LastAbnormalAt = at, IncidentPeakReports = Math.Max(s.IncidentPeakReports, reports) };
                return null;
            }

            Learn(reports);
            if (at - s.LastAbnormalAt >= options.CoolDown)
            {
                var resolved = new SpikeSignal(SpikeTransition.Resolved, at, reports, s.Mean, stdDev, z, s.IncidentStartedAt!.Value, s.IncidentPeakReports);
                s = s with { IncidentStartedAt = null, IncidentPeakReports = 0, AbnormalInARow = 0, LastResolvedAt = at };
                return resolved;
            }

            return null;
        }

        if (!abnormal)
        {
            s = s with { AbnormalInARow = 0 };
            Learn(reports);
            return null;
        }

        s = s with { AbnormalInARow = s.AbnormalInARow + 1, LastAbnormalAt = at };
        var coolingDown = s.LastResolvedAt is { } resolvedAt && at - resolvedAt < options.CoolDown;
        if (s.AbnormalInARow < options.Consecutive || coolingDown)
        {
            return null;
        }

        s = s with { IncidentStartedAt = at, IncidentPeakReports = reports };
        return new SpikeSignal(SpikeTransition.Detected, at, reports, s.Mean, stdDev, z, at, reports);
    }

    private void Learn(long reports)
    {
        if (s.Observations == 0)
        {
            s = s with { Observations = 1, Mean = reports, Variance = 0 };
            return;
        }

        // West's incremental EWMA of mean and variance.
        var alpha = s.Observations < options.WarmUp ? 1.0 / (s.Observations + 1) : options.Alpha;
        var difference = reports - s.Mean;
        var increment = alpha * difference;
        s = s with
        {
            Observations = s.Observations + 1,
            Mean = s.Mean + increment,
            Variance = (1 - alpha) * (s.Variance + difference * increment),
        };
    }
}
