using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Incidents;

namespace ImpactGrains.Scoring.Tests;

public sealed class OutageSpikeWatchTests
{
    private const string Entity = "acme";
    private static readonly DateTimeOffset Start = new(2025, 3, 10, 0, 0, 0, TimeSpan.Zero);
    private static readonly SpikeDetectorOptions Options = new();

    private static DateTimeOffset At(int step) => Start.AddMinutes(5 * step);

    /// <summary>A warm baseline of about 100 reports, then a spike at steps 20 and 21, then quiet again.</summary>
    private static long Reports(int step) => step is 20 or 21 ? 5_000 + step : 100 + step % 3;

    private static void Feed(OutageSpikeWatch watch, string region, int from, int to)
    {
        for (var step = from; step < to; step++)
        {
            watch.Add(region, At(step).UtcTicks, Reports(step));
        }
    }

    [Fact]
    public void A_spike_becomes_a_detected_then_a_resolved_incident_with_ids_fixed_by_the_spike()
    {
        var watch = new OutageSpikeWatch(Entity, Options);

        Feed(watch, "US", 0, 20);
        Assert.True(watch.HasPending);
        Assert.Null(watch.DetectPending());
        Assert.False(watch.HasPending);

        Feed(watch, "US", 20, 22);
        var detected = Assert.Single(watch.DetectPending()!);
        var startedAt = At(21);
        Assert.Equal($"incident-{Entity}-US-{startedAt.UtcTicks}-detected", detected.Id);
        Assert.Equal(OutageSpikeWatch.IncidentId(Entity, "US", startedAt, IncidentStatus.Detected), detected.Id);
        Assert.Equal((Entity, EventType.Incident, startedAt, "US", 1.0, "spike-detector"),
            (detected.Entity, detected.Type, detected.OccurredAt, detected.Region, detected.Confidence, detected.Source));
        var data = Assert.IsType<IncidentData>(detected.Data);
        Assert.Equal((IncidentStatus.Detected, 5_021L, startedAt, 5_021L), (data.Status, data.Reports, data.StartedAt, data.PeakReports));
        Assert.True(data.ZScore >= Options.ZThreshold);

        // Quiet for the cool-down (30 minutes, six steps) after the last abnormal count: resolved, named by the same start.
        Feed(watch, "US", 22, 40);
        var resolved = Assert.Single(watch.DetectPending()!);
        Assert.Equal($"incident-{Entity}-US-{startedAt.UtcTicks}-resolved", resolved.Id);
        var end = Assert.IsType<IncidentData>(resolved.Data);
        Assert.Equal((IncidentStatus.Resolved, startedAt, 5_021L, At(27)), (end.Status, end.StartedAt, end.PeakReports, resolved.OccurredAt));
    }

    [Fact]
    public void Incidents_come_in_the_order_the_counts_were_applied()
    {
        var watch = new OutageSpikeWatch(Entity, Options);
        for (var step = 0; step < 22; step++)
        {
            watch.Add("DE", At(step).UtcTicks, Reports(step));
            watch.Add("US", At(step).UtcTicks, Reports(step));
        }

        var incidents = watch.DetectPending()!;
        Assert.Equal(["DE", "US"], incidents.Select(i => i.Region));
        Assert.All(incidents, i => Assert.EndsWith("-detected", i.Id));
    }

    [Fact]
    public void Each_region_has_its_own_baseline()
    {
        var watch = new OutageSpikeWatch(Entity, Options);
        Feed(watch, "US", 0, 20);
        watch.DetectPending();

        // Just as high in a region that has no baseline yet: only training, no incident.
        watch.Add("FR", At(20).UtcTicks, 5_000);
        watch.Add("FR", At(21).UtcTicks, 5_000);
        Assert.Null(watch.DetectPending());
        Assert.Equal(["FR", "US"], watch.Detectors.Keys.Order());
        Assert.Equal(2, watch.Detectors["FR"].State.Observations);
        Assert.Equal(20, watch.Detectors["US"].State.Observations);
    }

    [Fact]
    public void Counts_cleared_before_detection_are_never_observed()
    {
        var watch = new OutageSpikeWatch(Entity, Options);
        Feed(watch, "US", 0, 22);
        watch.ClearPending();

        Assert.False(watch.HasPending);
        Assert.Null(watch.DetectPending());
        Assert.Empty(watch.Detectors);
    }

    [Fact]
    public void A_watch_restored_from_its_detector_states_goes_on_as_the_original_does()
    {
        var original = new OutageSpikeWatch(Entity, Options);
        Feed(original, "US", 0, 21);
        Feed(original, "GLOBAL", 0, 10);
        Assert.Null(original.DetectPending());

        var restored = new OutageSpikeWatch(Entity, Options);
        foreach (var (region, detector) in original.Detectors)
        {
            restored.Restore(region, detector.State);
        }

        Feed(original, "US", 21, 40);
        Feed(restored, "US", 21, 40);
        var expected = original.DetectPending()!;
        var actual = restored.DetectPending()!;
        Assert.Equal(2, actual.Count);
        Assert.Equal(expected.Select(e => e.Id), actual.Select(e => e.Id));
        Assert.Equal(expected.Select(e => e.Data), actual.Select(e => e.Data));
        Assert.Equal(original.Detectors["GLOBAL"].State, restored.Detectors["GLOBAL"].State);
    }
}
