using System.Diagnostics.Metrics;
using ImpactGrains.Grains;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace ImpactGrains.Server.Feeds;

/// <summary>What this silo's feed consumer is doing now: read by /health/ready and the feed's gauges on /metrics.</summary>
public sealed class FeedStatus
{
    private long pending = -1;
    private long ackPending = -1;
    private int inFlight;

    /// <summary>The connection while the consumer holds one (it reconnects by itself); null between attempts.</summary>
    public volatile NatsConnection? Connection;

    /// <summary>Why the feed is not consuming although NATS may answer (a missing stream, a refused consumer), or null.</summary>
    public volatile string? Problem;

    /// <summary>The last connection failure, shown while NATS cannot be reached.</summary>
    public volatile string? LastError;

    /// <summary>Whether the stream and the consumer are set up and the workers fetch.</summary>
    public volatile bool Consuming;

    public bool Connected => Connection?.ConnectionState == NatsConnectionState.Open;

    /// <summary>Messages in the stream not yet delivered to any silo (the lag), as of the last read; -1 before the first.</summary>
    public long Pending => Interlocked.Read(ref pending);

    /// <summary>Messages delivered to some silo and not yet acknowledged, cluster-wide; -1 before the first read.</summary>
    public long AckPending => Interlocked.Read(ref ackPending);

    /// <summary>Messages this silo has fetched and not yet settled.</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    public void SetLag(long pendingMessages, long ackPendingMessages)
    {
        Interlocked.Exchange(ref pending, pendingMessages);
        Interlocked.Exchange(ref ackPending, ackPendingMessages);
    }

    public void AddInFlight(int messages) => Interlocked.Add(ref inFlight, messages);
}

/// <summary>
/// The feed's metrics on ImpactGrains' meter: events consumed from messages, and how each ended (accepted, duplicate,
/// rejected); messages by outcome; and gauges for the consumer's lag, this silo's messages in flight and the connection.
/// </summary>
public sealed class FeedMetrics
{
    public FeedMetrics(IMeterFactory factory, FeedStatus status)
    {
        var meter = factory.Create(ImpactMetrics.MeterName);
        Consumed = meter.CreateCounter<long>("impactgrains.feed.events.consumed", "{event}",
            "Events read from feed messages, a redelivered message's again (an unreadable message counts as one)");
        Accepted = meter.CreateCounter<long>("impactgrains.feed.events.accepted", "{event}", "Feed events committed to the log");
        Duplicates = meter.CreateCounter<long>("impactgrains.feed.events.duplicate", "{event}", "Feed events whose id was already in the log (redeliveries, republished events)");
        Rejected = meter.CreateCounter<long>("impactgrains.feed.events.rejected", "{event}", "Feed events published to the rejected subject (an unreadable message counts as one)");
        Messages = meter.CreateCounter<long>("impactgrains.feed.messages", "{message}",
            "Feed messages settled by this silo, by outcome: acked (its events committed), unreadable (rejected whole, acked), nak (retried later)");
        meter.CreateObservableGauge("impactgrains.feed.pending", () => Observe(status.Pending), "{message}",
            "Messages in the stream that the consumer has not yet delivered to any silo: the feed's lag");
        meter.CreateObservableGauge("impactgrains.feed.ack_pending", () => Observe(status.AckPending), "{message}",
            "Messages delivered to a silo and not yet acknowledged, cluster-wide");
        meter.CreateObservableGauge("impactgrains.feed.in_flight", () => (long)status.InFlight, "{message}",
            "Messages this silo has fetched and not yet settled");
        meter.CreateObservableGauge("impactgrains.feed.connected", () => status.Connected ? 1 : 0, "1",
            "1 while this silo is connected to NATS, 0 otherwise");
    }

    public Counter<long> Consumed { get; }

    public Counter<long> Accepted { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> Rejected { get; }

    public Counter<long> Messages { get; }

    /// <summary>Every counter and outcome from 0, so that rate() works before the first message.</summary>
    public void Initialize()
    {
        Consumed.Add(0);
        Accepted.Add(0);
        Duplicates.Add(0);
        Rejected.Add(0);
        foreach (var outcome in new[] { "acked", "unreadable", "nak" })
        {
            Messages.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    private static IEnumerable<Measurement<long>> Observe(long value) => value < 0 ? [] : [new Measurement<long>(value)];
}

/// <summary>
/// The feed's part of /health/ready: degraded (still 200, so the silo keeps serving HTTP) while NATS cannot be reached
/// or the stream and consumer cannot be set up; healthy while consuming.
/// </summary>
internal sealed class FeedHealthCheck(FeedStatus status, IOptions<NatsFeedOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var feed = options.Value;
        HealthCheckResult result;
        if (!status.Connected)
        {
            var error = status.LastError is { } e ? $" ({e})" : "";
            result = HealthCheckResult.Degraded(
                $"NATS at {feed.DisplayServers} cannot be reached{error}; the feed resumes by itself once it can, and the HTTP API keeps serving");
        }
        else if (status.Problem is { } problem)
        {
            result = HealthCheckResult.Degraded($"NATS answers but the feed is not consuming: {problem}");
        }
        else if (!status.Consuming)
        {
            result = HealthCheckResult.Degraded($"setting up stream {feed.Stream} and consumer {feed.Consumer}");
        }
        else
        {
            var lag = status.Pending >= 0 ? $"; {status.Pending} messages pending" : "";
            result = HealthCheckResult.Healthy($"consuming stream {feed.Stream} as {feed.Consumer} from NATS at {feed.DisplayServers}{lag}");
        }

        return Task.FromResult(result);
    }
}
