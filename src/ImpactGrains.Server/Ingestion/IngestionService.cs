using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Storage;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Ingestion;

/// <summary>
/// The ingestion path: validate, append the batch to the log in one transaction (the acknowledgement point), then hand
/// each entity grain its events in one call per entity per batch.
/// </summary>
public sealed partial class IngestionService(
    IEventLog log,
    IEntityCatalog catalog,
    ImpactCalculator calculator,
    GrainDelivery delivery,
    ImpactGrains.Grains.ImpactMetrics metrics,
    TimeProvider time,
    IOptions<ImpactOptions> options,
    ILogger<IngestionService> logger)
{
    /// <summary>The latest occurrence time an event may claim now.</summary>
    public DateTimeOffset LatestAllowed => time.GetUtcNow() + EventJson.FutureTolerance;

    public async Task<IngestionResult> IngestAsync(IReadOnlyList<EventParseResult> parsed, CancellationToken cancellationToken)
    {
        var rejected = new List<RejectedEvent>();
        var valid = new List<ImpactEvent>(parsed.Count);
        var known = new Dictionary<string, bool>(StringComparer.Ordinal);
        for (var i = 0; i < parsed.Count; i++)
        {
            var result = parsed[i];
            if (result.Event is not { } e)
            {
                rejected.Add(new RejectedEvent(i, result.Id, result.Error ?? "invalid event"));
                metrics.Rejected.Add(1, new KeyValuePair<string, object?>("type", "unknown"));
                LogRejected(result.Id, result.Error);
                continue;
            }

            if (!known.TryGetValue(e.Entity, out var exists))
            {
                exists = known[e.Entity] = await catalog.ExistsAsync(e.Entity, cancellationToken);
            }

            if (!exists)
            {
                rejected.Add(new RejectedEvent(i, e.Id, $"entity: unknown entity '{e.Entity}'; register it with PUT /api/entities/{e.Entity}"));
                metrics.Rejected.Add(1, new KeyValuePair<string, object?>("type", e.Type.WireName()));
                LogRejected(e.Id, "unknown entity " + e.Entity);
                continue;
            }

            valid.Add(e);
        }

        // The acknowledgement point: once this returns, the accepted events are committed.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var appended = await log.AppendAsync(valid, cancellationToken);
        var committed = System.Diagnostics.Stopwatch.GetTimestamp();
        if (valid.Count > 0)
        {
            metrics.CommitLatency.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started, committed).TotalMilliseconds);
        }

        var outcomes = appended.Outcomes;

        var duplicates = 0;
        var byEntity = new Dictionary<string, List<ScoredEvent>>(StringComparer.Ordinal);
        var outagesByEntity = new Dictionary<string, List<OutageObservation>>(StringComparer.Ordinal);
        for (var i = 0; i < valid.Count; i++)
        {
            var e = valid[i];
            var type = new KeyValuePair<string, object?>("type", e.Type.WireName());
            if (outcomes[i].Duplicate)
            {
                duplicates++;
                metrics.Duplicates.Add(1, type);
                continue;
            }

            metrics.Accepted.Add(1, type);
            LogAccepted(e.Id, e.Entity, outcomes[i].EntitySequence);
            if (!byEntity.TryGetValue(e.Entity, out var batch))
            {
                byEntity[e.Entity] = batch = [];
            }

            batch.Add(calculator.Score(e, outcomes[i].EntitySequence));
            if (OutageObservation.Of(e, outcomes[i].EntitySequence) is { } outage)
            {
                if (!outagesByEntity.TryGetValue(e.Entity, out var outages))
                {
                    outagesByEntity[e.Entity] = outages = [];
                }

                outages.Add(outage);
            }
        }

        LogIngested(valid.Count - duplicates, duplicates, rejected.Count);
        await delivery.DeliverAsync(
            byEntity.ToDictionary(p => p.Key, p => new EntityEventBatch(p.Value, outagesByEntity.GetValueOrDefault(p.Key)), StringComparer.Ordinal),
            appended.DeliveryId, committed, options.Value.Ingestion.ApplyWait);
        return new IngestionResult(valid.Count - duplicates, duplicates, rejected);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId} accepted for {Entity} as sequence {Sequence}")]
    private partial void LogAccepted(string eventId, string entity, long sequence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} rejected: {Reason}")]
    private partial void LogRejected(string? eventId, string? reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ingested a batch: {Accepted} accepted, {Duplicates} duplicates, {Rejected} rejected")]
    private partial void LogIngested(int accepted, int duplicates, int rejected);
}
