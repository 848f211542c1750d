using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;

namespace ImpactGrains.Grains.Ownership;

/// <summary>
/// Appends events owned by this silo to its log writer and waits, at most the given time, for the commit's delivery to
/// their grains, so that a query right after the acknowledgement sees them.
/// </summary>
public sealed partial class OwnedEventAppender(IEventLog log, ImpactMetrics metrics, ILogger<OwnedEventAppender> logger)
{
    /// <summary>Each event's entity sequence, or 0 for a duplicate; returns once the events are committed.</summary>
    public async Task<long[]> AppendAsync(IReadOnlyList<ImpactEvent> events, TimeSpan applyWait, CancellationToken cancellationToken = default)
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
            try
            {
                await commit.Delivered.WaitAsync(applyWait, cancellationToken);
            }
            catch (TimeoutException)
            {
                LogSlowDelivery(applyWait);
            }
        }

        return sequences;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery of a commit took longer than {Wait}; acknowledged anyway, delivery continues")]
    private partial void LogSlowDelivery(TimeSpan wait);
}
