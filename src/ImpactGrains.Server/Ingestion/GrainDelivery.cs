using ImpactGrains.Abstractions;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Ingestion;

/// <summary>
/// Hands committed events to their entity grains, one call per entity per batch. A delivery that fails or is slow
/// does not fail the request (the events are already durable): it is retried in the background, and once every grain
/// has its events the append's outbox row is removed. Grains skip sequences they already hold, so a retry never counts
/// an event twice; if this process dies first, <see cref="DeliveryRecovery"/> on any silo finishes the job.
/// </summary>
public sealed partial class GrainDelivery(
    IGrainFactory grains, IEventLog log, Grains.ImpactMetrics metrics, ILogger<GrainDelivery> logger, IHostApplicationLifetime lifetime)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Delivers, waiting at most <paramref name="wait"/> for the grains to confirm.</summary>
    /// <param name="committedAt">When the log committed the events (a Stopwatch timestamp), for the freshness metric.</param>
    public async Task DeliverAsync(IReadOnlyDictionary<string, EntityEventBatch> byEntity, long deliveryId, long committedAt, TimeSpan wait)
    {
        if (byEntity.Count == 0)
        {
            return;
        }

        var delivered = CompleteAsync(byEntity.Select(pair => DeliverWithRetryAsync(pair.Key, pair.Value, committedAt)).ToList(), deliveryId);
        try
        {
            await delivered.WaitAsync(wait);
        }
        catch (TimeoutException)
        {
            LogSlowDelivery(byEntity.Count, wait);
        }
    }

    private async Task CompleteAsync(List<Task<bool>> deliveries, long deliveryId)
    {
        if ((await Task.WhenAll(deliveries)).All(done => done))
        {
            try
            {
                await log.CompleteDeliveryAsync(deliveryId);
            }
            catch (Exception ex)
            {
                // The row stays; recovery will find every grain up to date and remove it.
                LogCompletionFailed(ex, deliveryId);
            }
        }
    }

    private async Task<bool> DeliverWithRetryAsync(string entity, EntityEventBatch batch, long committedAt)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await grains.GetGrain<IEntityGrain>(entity).ApplyAsync(batch);
                metrics.Freshness.Record(System.Diagnostics.Stopwatch.GetElapsedTime(committedAt).TotalMilliseconds);
                return true;
            }
            catch (Exception ex) when (!lifetime.ApplicationStopping.IsCancellationRequested)
            {
                LogDeliveryFailed(ex, entity, attempt, backoff);
                try
                {
                    await Task.Delay(backoff, lifetime.ApplicationStopping);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery of {Entities} entities' events took longer than {Wait}; acknowledged anyway, delivery continues")]
    private partial void LogSlowDelivery(int entities, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to entity {Entity} failed (attempt {Attempt}); retrying in {Backoff}")]
    private partial void LogDeliveryFailed(Exception exception, string entity, int attempt, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove outbox row {DeliveryId}; recovery will")]
    private partial void LogCompletionFailed(Exception exception, long deliveryId);
}
