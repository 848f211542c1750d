using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Grains.Ownership;

/// <summary>How an acknowledgement waits for delivery (bound from <c>Impact:Ingestion</c>).</summary>
public sealed class DeliveryWaitOptions
{
    /// <summary>
    /// How long a request waits for its events to reach the entity grains after the commit. Past it the request is
    /// still acknowledged (the events are durable) and delivery goes on in the background.
    /// </summary>
    public TimeSpan ApplyWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// While more events than this are committed on a silo and not yet applied by their grains, a request waits for its
    /// own delivery however long it takes: producers feel a silo that cannot keep up as slower acknowledgements, instead
    /// of the silo queueing work until its grain calls time out.
    /// </summary>
    public int MaxUndeliveredEvents { get; set; } = 50_000;
}

/// <summary>
/// Appends events owned by this silo to its log writer and waits, at most <see cref="DeliveryWaitOptions.ApplyWait"/>
/// (or for as long as it takes, while delivery lags), for the commit's delivery to their grains, so that a query right
/// after the acknowledgement sees them.
/// </summary>
public sealed partial class OwnedEventAppender(IEventLog log, ImpactMetrics metrics, IOptions<DeliveryWaitOptions> options, ILogger<OwnedEventAppender> logger)
{
    private long undelivered;

    private readonly WarningThrottle slowDeliveryWarnings = new(TimeSpan.FromSeconds(1));

    /// <summary>Each event's entity sequence, or 0 for a duplicate; returns once the events are committed.</summary>
    public async Task<long[]> AppendAsync(IReadOnlyList<ImpactEvent> events, CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var appended = await log.AppendAsync(events, cancellationToken);
        if (events.Count > 0)
        {
            metrics.CommitLatency.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        var sequences = new long[events.Count];
        for (var i = 0; i < sequences.Length; i++)
        {
            var outcome = appended.Outcomes[i];
            sequences[i] = outcome.Duplicate ? 0 : outcome.EntitySequence;
        }

        if (appended.Commit is { } commit)
        {
            var fresh = sequences.Count(s => s > 0);
            var lagging = Interlocked.Add(ref undelivered, fresh) > options.Value.MaxUndeliveredEvents;
            _ = commit.Delivered.ContinueWith(_ => Interlocked.Add(ref undelivered, -fresh), TaskScheduler.Default);
            var wait = options.Value.ApplyWait;
            try
            {
                await (lagging ? commit.Delivered.WaitAsync(cancellationToken) : commit.Delivered.WaitAsync(wait, cancellationToken));
            }
            catch (TimeoutException)
            {
                if (slowDeliveryWarnings.ShouldLog(out var heldBack))
                {
                    LogSlowDelivery(wait, heldBack);
                }
            }
        }

        return sequences;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery of a commit took longer than {Wait}; acknowledged anyway, delivery continues ({HeldBack} more such commits since the last warning)")]
    private partial void LogSlowDelivery(TimeSpan wait, int heldBack);
}
