using ImpactGrains.Scoring.Incidents;

namespace ImpactGrains.Scoring.Tests;

public sealed class SpikeDetectorTests
{
    private static readonly DateTimeOffset Day = new(2025, 3, 10, 0, 0, 0, TimeSpan.Zero);
    private static readonly SpikeDetectorOptions Options = new();

    /// <summary>
    /// A day of five-minute report counts like the X outage: noise around 120 reports, a morning wave
    /// (08:00–09:00, peaking near 39,000), and two afternoon waves (13:00–13:40 and 15:30–16:10).
    /// </summary>
    private static List<(DateTimeOffset At, long Reports)> Series(int seed)
    {
        var random = new Random(seed);
        var series = new List<(DateTimeOffset, long)>();
        for (var minute = 0; minute < 24 * 60; minute += 5)
        {
            var at = Day.AddMinutes(minute);
            double reports = 120 + Normal(random) * 15;
            reports += Wave(minute, 8 * 60, 9 * 60, 39_000);
            reports += Wave(minute, 13 * 60, 13 * 60 + 40, 12_000);
            reports += Wave(minute, 15 * 60 + 30, 16 * 60 + 10, 6_000);
            series.Add((at, Math.Max(0, (long)reports)));
        }

        return series;
    }

    private static double Wave(int minute, int start, int end, double peak)
    {
        if (minute < start || minute >= end)
        {
            return 0;
        }

        var phase = (minute - start) / (double)(end - start);
        return peak * Math.Sin(Math.PI * (0.1 + 0.8 * phase));
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static List<SpikeSignal> Run(IEnumerable<(DateTimeOffset At, long Reports)> series, SpikeDetector? detector = null)
    {
        detector ??= new SpikeDetector(Options);
        return series.Select(p => detector.Observe(p.At, p.Reports)).OfType<SpikeSignal>().ToList();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void It_fires_once_per_wave_in_the_right_window_and_resolves_after_the_cool_down(int seed)
    {
        var signals = Run(Series(seed));

        var detected = signals.Where(s => s.Transition == SpikeTransition.Detected).Select(s => s.At).ToList();
        var resolved = signals.Where(s => s.Transition == SpikeTransition.Resolved).Select(s => s.At).ToList();
        Assert.Equal(3, detected.Count);
        Assert.InRange(detected[0], Day.AddHours(8), Day.AddHours(8).AddMinutes(15));
        Assert.InRange(detected[1], Day.AddHours(13), Day.AddHours(13).AddMinutes(15));
        Assert.InRange(detected[2], Day.AddHours(15.5), Day.AddHours(15.5).AddMinutes(15));

        // Each resolves a cool-down after its wave ends, before the next begins.
        Assert.Equal(3, resolved.Count);
        Assert.InRange(resolved[0], Day.AddHours(9).AddMinutes(25), Day.AddHours(9).AddMinutes(40));
        Assert.InRange(resolved[1], Day.AddHours(13).AddMinutes(65), Day.AddHours(13).AddMinutes(80));
        Assert.InRange(resolved[2], Day.AddHours(16).AddMinutes(35), Day.AddHours(16).AddMinutes(50));
        Assert.All(detected.Zip(resolved), pair => Assert.True(pair.First < pair.Second));
    }

    [Fact]
    public void The_evidence_carries_the_counts_and_the_baseline()
    {
        var first = Run(Series(4)).First();
        Assert.Equal(SpikeTransition.Detected, first.Transition);
        Assert.InRange(first.BaselineMean, 90, 150);
        Assert.InRange(first.BaselineStdDev, Options.MinStdDev, 40);
        Assert.True(first.Reports > first.BaselineMean + Options.ZThreshold * first.BaselineStdDev);
        Assert.Equal((first.Reports - first.BaselineMean) / first.BaselineStdDev, first.ZScore, 9);

        var resolvedFirst = Run(Series(4)).First(s => s.Transition == SpikeTransition.Resolved);
        Assert.Equal(first.At, resolvedFirst.StartedAt);
        Assert.True(resolvedFirst.PeakReports > 30_000);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public void It_stays_quiet_on_noise(int seed)
    {
        var random = new Random(seed);
        var noise = Enumerable.Range(0, 7 * 24 * 12)
            .Select(i => (Day.AddMinutes(5 * i), (long)Math.Max(0, 120 + Normal(random) * 15)));
        Assert.Empty(Run(noise));
    }

    [Fact]
    public void A_single_outlier_is_not_an_incident()
    {
        var series = Series(7).Where(p => p.At < Day.AddHours(7)).ToList();
        series[50] = (series[50].At, 5_000);
        Assert.Empty(Run(series));
    }

    [Fact]
    public void It_never_fires_twice_inside_its_cool_down()
    {
        // Waves every 20 minutes, closer together than the 30-minute cool-down.
        var random = new Random(8);
        var series = Enumerable.Range(0, 48 * 12).Select(i =>
        {
            var minute = 5 * i;
            var inWave = minute >= 6 * 60 && minute % 40 < 20;
            return (Day.AddMinutes(minute), (long)(120 + Normal(random) * 15 + (inWave ? 8_000 : 0)));
        }).ToList();

        var detected = Run(series).Where(s => s.Transition == SpikeTransition.Detected).Select(s => s.At).ToList();
        Assert.NotEmpty(detected);
        Assert.All(detected.Zip(detected.Skip(1)), pair => Assert.True(pair.Second - pair.First >= Options.CoolDown));
    }

    [Fact]
    public void A_restored_state_goes_on_exactly_as_before()
    {
        var series = Series(9);
        var straight = Run(series);

        var first = new SpikeDetector(Options);
        var part = Run(series.Take(100), first);
        var resumed = new SpikeDetector(Options, first.State);
        part.AddRange(Run(series.Skip(100), resumed));
        Assert.Equal(straight, part);
    }
}
