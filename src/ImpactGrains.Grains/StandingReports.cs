using ImpactGrains.Abstractions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Grains;

/// <summary>
/// Collects the standings that the entity grains of this silo report and sends them on to their leaderboard
/// partitions every <see cref="LeaderboardOptions.ReportInterval"/>, one one-way call per partition with every entity
/// that changed since: a grain's report is a dictionary write instead of a grain call per delivery. Only an entity's
/// latest standing is sent. Reports not yet sent when the silo dies are made up when the entities reactivate (they
/// re-report) and by the partitions' refresh.
/// </summary>
public sealed partial class StandingReports(IGrainFactory grains, IOptions<LeaderboardOptions> options, ILogger<StandingReports> logger)
    : BackgroundService
{
    private readonly object gate = new();
    private Dictionary<string, StandingReport> pending = new(StringComparer.Ordinal);

    public void Report(StandingReport report)
    {
        lock (gate)
        {
            // Reports can overtake each other; the newest instant wins.
            if (!pending.TryGetValue(report.Entity, out var known) || known.AtTicks <= report.AtTicks)
            {
                pending[report.Entity] = report;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReportInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Flush();
            }
        }
        catch (OperationCanceledException)
        {
        }

        Flush();
    }

    /// <summary>Sends what has gathered; public so that tests need not wait for the timer.</summary>
    public void Flush()
    {
        Dictionary<string, StandingReport> reports;
        lock (gate)
        {
            if (pending.Count == 0)
            {
                return;
            }

            reports = pending;
            pending = new Dictionary<string, StandingReport>(StringComparer.Ordinal);
        }

        var leaderboard = options.Value;
        foreach (var partition in reports.Values.GroupBy(r => leaderboard.PartitionOf(r.Entity)))
        {
            try
            {
                grains.GetGrain<ILeaderboardPartitionGrain>(partition.Key).ReportManyAsync(new StandingBatch(partition.ToList())).Ignore();
            }
            catch (Exception ex)
            {
                // One-way: a failure here is a silo shutting down; the entities re-report when they reactivate.
                LogReportFailed(ex, partition.Key);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Standings for leaderboard partition {Partition} could not be sent")]
    private partial void LogReportFailed(Exception exception, int partition);
}
