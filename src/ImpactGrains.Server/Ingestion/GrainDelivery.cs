using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Server.Ingestion;

/// <summary>
/// Hands committed events to their entity grains, one call per entity per batch. A delivery that fails or is slow
/// does not fail the request (the events are already durable); it is retried in the background until the grain has
/// them. Grains skip sequences they already hold, so a retry never counts an event twice.
/// </summary>
public sealed partial class GrainDelivery(IGrainFactory grains, ILogger<GrainDelivery> logger, IHostApplicationLifetime lifetime)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Delivers, waiting at most <paramref name="wait"/> for the grains to confirm.</summary>
    public async Task DeliverAsync(IReadOnlyDictionary<string, List<ScoredEvent>> byEntity, TimeSpan wait)
    {
        if (byEntity.Count == 0)
        {
            return;
        }

        var deliveries = byEntity.Select(pair => DeliverWithRetryAsync(pair.Key, pair.Value)).ToList();
        try
        {
            await Task.WhenAll(deliveries).WaitAsync(wait);
        }
        catch (TimeoutException)
        {
            LogSlowDelivery(byEntity.Count, wait);
        }
    }

    private async Task DeliverWithRetryAsync(string entity, List<ScoredEvent> events)
    {
        var batch = new EntityEventBatch(events);
        var backoff = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await grains.GetGrain<IEntityGrain>(entity).ApplyAsync(batch);
                return;
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
                    return; // shutting down: the grain replays these events from the log when it next activates
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery of {Entities} entities' events took longer than {Wait}; acknowledged anyway, delivery continues")]
    private partial void LogSlowDelivery(int entities, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to entity {Entity} failed (attempt {Attempt}); retrying in {Backoff}")]
    private partial void LogDeliveryFailed(Exception exception, string entity, int attempt, TimeSpan backoff);
}
