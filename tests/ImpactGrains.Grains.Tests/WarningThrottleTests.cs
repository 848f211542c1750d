using ImpactGrains.Grains.Ownership;
using Orleans.Runtime;

namespace ImpactGrains.Grains.Tests;

/// <summary>Repeated warnings (one per entity while a silo is dead) are logged once per interval, with a count of the rest.</summary>
public sealed class WarningThrottleTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Now { get; set; } = 1_000;

        public override long TimestampFrequency => 1_000; // milliseconds

        public override long GetTimestamp() => Now;
    }

    [Fact]
    public void One_warning_per_interval_gets_through_and_says_how_many_were_held_back()
    {
        var clock = new ManualClock();
        var throttle = new WarningThrottle(TimeSpan.FromSeconds(1), clock);

        Assert.True(throttle.ShouldLog(out var first));
        Assert.Equal(0, first);
        for (var i = 0; i < 499; i++)
        {
            Assert.False(throttle.ShouldLog(out var none));
            Assert.Equal(0, none);
        }

        clock.Now += 999;
        Assert.False(throttle.ShouldLog(out _));

        clock.Now += 1;
        Assert.True(throttle.ShouldLog(out var heldBack));
        Assert.Equal(500, heldBack);

        clock.Now += 5_000;
        Assert.True(throttle.ShouldLog(out var quiet));
        Assert.Equal(0, quiet);
    }

    [Fact]
    public void Concurrent_occurrences_let_exactly_one_through_and_count_every_other()
    {
        var clock = new ManualClock();
        var throttle = new WarningThrottle(TimeSpan.FromSeconds(1), clock);
        var logged = 0;
        Parallel.For(0, 10_000, _ =>
        {
            if (throttle.ShouldLog(out _))
            {
                Interlocked.Increment(ref logged);
            }
        });

        Assert.Equal(1, logged);
        clock.Now += 1_000;
        Assert.True(throttle.ShouldLog(out var heldBack));
        Assert.Equal(9_999, heldBack);
    }

    [Fact]
    public void A_silo_that_cannot_be_reached_is_told_from_a_failure_of_the_call_itself()
    {
        Assert.True(SiloFailures.IsUnreachable(new InvalidOperationException("wrapped", new SiloUnavailableException("no connection"))));
        Assert.True(SiloFailures.IsUnreachable(new SiloUnavailableException("dead")));
        Assert.True(SiloFailures.IsUnreachable(new InvalidOperationException("wrapped", new TimeoutException())));
        Assert.False(SiloFailures.IsUnreachable(new InvalidOperationException("the grain's own failure")));
        Assert.False(SiloFailures.IsUnreachable(null));
    }
}
