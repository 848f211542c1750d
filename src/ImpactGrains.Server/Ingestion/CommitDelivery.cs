using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Ingestion;

/// <summary>
/// Hands each commit of the log to the entity grains: its events scored, one call per entity per commit (a commit
/// carries every request that queued while the previous one was written, so an entity that several requests touched
/// gets them in one call). Commits are taken in order and each one's calls are issued before the next one's, so an
/// entity receives its sequences in order. A delivery that fails or is slow does not fail anything (the events are
/// durable): it is retried in the background, and once every grain has the commit's events its outbox row is removed.
/// Grains skip sequences they already hold, so a retry never counts an event twice; if this process dies first,
/// <see cref="DeliveryRecovery"/> on any silo finishes the job.
/// </summary>
public sealed partial class CommitDelivery(
    CommitFeed feed,
    IGrainFactory grains,
    IEventLog log,
    ImpactCalculator calculator,
    Grains.ImpactMetrics metrics,
    Grains.Ownership.MembershipChanges membershipChanges,
    ILogger<CommitDelivery> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly Grains.WarningThrottle failureWarnings = new(TimeSpan.FromSeconds(1));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var commits = feed.Subscribe();
        try
        {
            while (await commits.WaitToReadAsync(stoppingToken))
            {
                while (commits.TryRead(out var commit))
                {
                    _ = DeliverAsync(commit, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down: undelivered commits keep their outbox rows for recovery on another silo.
        }
    }

    /// <summary>Issues the commit's calls at once (before the next commit's), then waits for them.</summary>
    private async Task DeliverAsync(CommittedGroup commit, CancellationToken stopping)
    {
        var calls = new List<Task<bool>>();
        foreach (var (entity, (events, outages)) in ByEntity(commit))
        {
            calls.Add(DeliverWithRetryAsync(entity, new EntityEventBatch(events, outages), commit.CommittedAt, stopping));
        }

        metrics.PendingDeliveries.Add(calls.Count);
        var done = await Task.WhenAll(calls);
        metrics.PendingDeliveries.Add(-calls.Count);
        if (done.All(d => d))
        {
            commit.MarkDelivered();
            await log.CompleteDeliveryAsync(commit.DeliveryId, CancellationToken.None);
        }
        else
        {
            commit.MarkDelivered(); // nobody waits on a shutdown; the outbox row stays for recovery
        }
    }

    /// <summary>The commit's events by entity, scored, in sequence order, with the outage report counts among them.</summary>
    private Dictionary<string, (List<ScoredEvent> Events, List<OutageObservation>? Outages)> ByEntity(CommittedGroup commit)
    {
        var events = new Dictionary<string, (List<ScoredEvent> Events, List<OutageObservation>? Outages)>(StringComparer.Ordinal);
        foreach (var (e, sequence) in commit.Events)
        {
            ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(events, e.Entity, out var exists);
            if (!exists)
            {
                entry = ([], null);
            }

            entry.Events.Add(calculator.Score(e, sequence));
            if (OutageObservation.Of(e, sequence) is { } outage)
            {
                (entry.Outages ??= []).Add(outage);
            }
        }

        return events;
    }

    private async Task<bool> DeliverWithRetryAsync(string entity, EntityEventBatch batch, long committedAt, CancellationToken stopping)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await grains.GetEntityGrain(entity).ApplyAsync(batch);
                metrics.Freshness.Record(System.Diagnostics.Stopwatch.GetElapsedTime(committedAt).TotalSeconds);
                return true;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                if (failureWarnings.ShouldLog(out var heldBack))
                {
                    // A dead silo's grains fail every delivery until the cluster declares it: that is named, not traced.
                    if (Grains.Ownership.SiloFailures.IsUnreachable(ex))
                    {
                        LogDeliveryUnreachable(entity, attempt, backoff, ex.GetType().Name, ex.Message, heldBack);
                    }
                    else
                    {
                        LogDeliveryFailed(ex, entity, attempt, backoff, heldBack);
                    }
                }

                // Read before the wait: a change that lands during the delay still wakes it.
                var membershipChanged = membershipChanges.Next;
                try
                {
                    // The grain's silo died: the retry goes as soon as the cluster declares it (its grains can then
                    // activate on their new owners), not seconds later at the end of a backoff.
                    await Task.WhenAny(Task.Delay(backoff, stopping), membershipChanged);
                    stopping.ThrowIfCancellationRequested();
                }
                catch (OperationCanceledException)
                {
                    return false; // shutting down: the outbox row stays for recovery on another silo
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
            catch (Exception)
            {
                return false;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to entity {Entity} failed (attempt {Attempt}); retrying in {Backoff} ({HeldBack} more failed deliveries since the last warning)")]
    private partial void LogDeliveryFailed(Exception exception, string entity, int attempt, TimeSpan backoff, int heldBack);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to entity {Entity} failed (attempt {Attempt}): its silo could not be reached ({Failure}: {Reason}); retrying in {Backoff} or once the cluster changes ({HeldBack} more failed deliveries since the last warning)")]
    private partial void LogDeliveryUnreachable(string entity, int attempt, TimeSpan backoff, string failure, string reason, int heldBack);
}
