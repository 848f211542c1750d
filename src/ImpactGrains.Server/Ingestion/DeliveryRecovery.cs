using ImpactGrains.Abstractions;
using ImpactGrains.Storage;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Ingestion;

public sealed class DeliveryRecoveryOptions
{
    /// <summary>How often each silo looks for stale outbox rows.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>An outbox row older than this is taken to be abandoned (its appender died or gave up).</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// On every silo: claims acknowledged appends whose delivery was never confirmed and makes their entity grains catch
/// up from the log. This is what keeps an acknowledged event from being lost to a process that died between its
/// commit and its delivery.
/// </summary>
public sealed partial class DeliveryRecovery(
    IEventLog log, IGrainFactory grains, IOptions<DeliveryRecoveryOptions> options, ILogger<DeliveryRecovery> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RecoverAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogRecoveryFailed(ex);
            }
        }
    }

    /// <summary>One pass; returns how many outbox rows it settled.</summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var settled = 0;
        var claimed = await log.ClaimStaleDeliveriesAsync(options.Value.StaleAfter, TimeSpan.FromSeconds(30), 100, cancellationToken);
        foreach (var delivery in claimed)
        {
            await Task.WhenAll(delivery.Through.Select(t => grains.GetEntityGrain(t.Key).EnsureAppliedAsync(t.Value)));
            await log.CompleteDeliveryAsync(delivery.Id, cancellationToken);
            settled++;
        }

        if (settled > 0)
        {
            LogRecovered(settled);
        }

        return settled;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovered {Count} acknowledged appends whose delivery was never confirmed")]
    private partial void LogRecovered(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery recovery failed; it will try again")]
    private partial void LogRecoveryFailed(Exception exception);
}
