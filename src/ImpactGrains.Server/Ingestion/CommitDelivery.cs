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
/// At most <see cref="MaxCallsInFlight"/> calls are under way at once: a commit touches up to thousands of entities,
/// and issued all at once their grain turns filled the thread pool's queue, so a read arriving meanwhile waited behind
/// every one of them (hundreds of milliseconds at the 99th percentile under ingestion).
/// </summary>
public sealed partial class CommitDelivery(
    CommitFeed feed,
    IGrainFactory grains,
    IEventLog log,
    ImpactCalculator calculator,
    Grains.ImpactMetrics metrics,
    ILogger<CommitDelivery> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Enough to keep every core busy while some calls wait on storage or another silo; few enough that a read's turn is never far back in the queue.</summary>
    internal static readonly int MaxCallsInFlight = Math.Max(16, 32 * Environment.ProcessorCount);

    private readonly SemaphoreSlim callSlots = new(MaxCallsInFlight);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var commits = feed.Subscribe();
        try
        {
            while (await commits.WaitToReadAsync(stoppingToken))
            {
                while (commits.TryRead(out var commit))
                {
                    // Issued here, in order (a commit's calls before the next one's); completed in the background.
                    var calls = await IssueAsync(commit, stoppingToken);
                    _ = CompleteAsync(commit, calls);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down: undelivered commits keep their outbox rows for recovery on another silo.
        }
    }

    /// <summary>Issues the commit's calls, each once a call slot is free.</summary>
    private async Task<List<Task<bool>>> IssueAsync(CommittedGroup commit, CancellationToken stopping)
    {
        var byEntity = ByEntity(commit);
        var calls = new List<Task<bool>>(byEntity.Count);
        metrics.PendingDeliveries.Add(byEntity.Count);
        try
        {
            foreach (var (entity, (events, outages)) in byEntity)
            {
                await callSlots.WaitAsync(stopping);
                calls.Add(DeliverWithRetryAsync(entity, new EntityEventBatch(events, outages), commit.CommittedAt, stopping));
            }
        }
        catch (OperationCanceledException)
        {
            metrics.PendingDeliveries.Add(calls.Count - byEntity.Count);
            throw;
        }

        return calls;
    }

    /// <summary>Waits for the commit's calls; once every grain has its events, the commit's outbox row goes.</summary>
    private async Task CompleteAsync(CommittedGroup commit, List<Task<bool>> calls)
    {
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

    /// <summary>Delivers to one entity; the caller holds a call slot for the first attempt, and every attempt gives its slot back.</summary>
    private async Task<bool> DeliverWithRetryAsync(string entity, EntityEventBatch batch, long committedAt, CancellationToken stopping)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (attempt > 1)
                {
                    await callSlots.WaitAsync(stopping);
                }

                try
                {
                    await grains.GetEntityGrain(entity).ApplyAsync(batch);
                }
                finally
                {
                    callSlots.Release();
                }

                metrics.Freshness.Record(System.Diagnostics.Stopwatch.GetElapsedTime(committedAt).TotalSeconds);
                return true;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                LogDeliveryFailed(ex, entity, attempt, backoff);
                try
                {
                    await Task.Delay(backoff, stopping);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to entity {Entity} failed (attempt {Attempt}); retrying in {Backoff}")]
    private partial void LogDeliveryFailed(Exception exception, string entity, int attempt, TimeSpan backoff);
}
