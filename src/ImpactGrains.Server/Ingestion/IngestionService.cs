using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Grains.Ownership;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Ingestion;

/// <summary>
/// The ingestion path: judge each event, then hand the valid ones to <see cref="EventRouter"/>, which appends each to the
/// log on the silo that owns its entity (the acknowledgement point: the log answers once they are committed) and waits,
/// at most <see cref="DeliveryWaitOptions.ApplyWait"/>, for <see cref="CommitDelivery"/> there to hand the commit to the
/// entity grains, so that a query right after the acknowledgement sees the events. Everything per event here is a
/// look-up or a count; metrics and logs are per request.
/// </summary>
public sealed partial class IngestionService(
    EventRouter router,
    IEntityCatalog catalog,
    ImpactGrains.Grains.ImpactMetrics metrics,
    TimeProvider time,
    ILogger<IngestionService> logger)
{
    /// <summary>The latest occurrence time an event may claim now.</summary>
    public DateTimeOffset LatestAllowed => time.GetUtcNow() + EventJson.FutureTolerance;

    public async Task<IngestionResult> IngestAsync(IReadOnlyList<EventParseResult> parsed, CancellationToken cancellationToken)
    {
        var rejected = new List<RejectedEvent>();
        var valid = new List<ImpactEvent>(parsed.Count);
        var rejectedByType = new int[EventTypes.Count + 1]; // the last slot: unreadable, type unknown
        for (var i = 0; i < parsed.Count; i++)
        {
            var result = parsed[i];
            if (result.Event is not { } e)
            {
                rejected.Add(new RejectedEvent(i, result.Id, result.Error ?? "invalid event"));
                rejectedByType[EventTypes.Count]++;
                LogRejected(result.Id, result.Error);
                continue;
            }

            // Entities are never removed and the catalog caches a positive answer, so this is a look-up per event.
            if (!await catalog.ExistsAsync(e.Entity, cancellationToken))
            {
                rejected.Add(new RejectedEvent(i, e.Id, $"entity: unknown entity '{e.Entity}'; register it with PUT /api/entities/{e.Entity}"));
                rejectedByType[(int)e.Type]++;
                LogRejected(e.Id, "unknown entity " + e.Entity);
                continue;
            }

            valid.Add(e);
        }

        // The acknowledgement point: once this returns, the accepted events are committed, each by the silo that owns
        // its entity, and their grains have them (or ApplyWait has passed and delivery goes on in the background).
        var sequences = await router.AppendAsync(valid, cancellationToken);

        var acceptedByType = new int[EventTypes.Count];
        var duplicatesByType = new int[EventTypes.Count];
        var traced = logger.IsEnabled(LogLevel.Debug); // a line per event only when someone asked for it
        for (var i = 0; i < valid.Count; i++)
        {
            var duplicate = sequences[i] == 0;
            (duplicate ? duplicatesByType : acceptedByType)[(int)valid[i].Type]++;
            if (traced && !duplicate)
            {
                LogAccepted(valid[i].Id, valid[i].Entity, sequences[i]);
            }
        }

        Count(metrics.Accepted, acceptedByType);
        Count(metrics.Duplicates, duplicatesByType);
        Count(metrics.Rejected, rejectedByType);
        var duplicates = duplicatesByType.Sum();
        LogIngested(valid.Count - duplicates, duplicates, rejected.Count);

        return new IngestionResult(valid.Count - duplicates, duplicates, rejected);
    }

    private static void Count(System.Diagnostics.Metrics.Counter<long> counter, int[] byType)
    {
        for (var t = 0; t < byType.Length; t++)
        {
            if (byType[t] > 0)
            {
                counter.Add(byType[t], new KeyValuePair<string, object?>("type", t < EventTypes.Count ? ((EventType)t).WireName() : "unknown"));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId} accepted for {Entity} as sequence {Sequence}")]
    private partial void LogAccepted(string eventId, string entity, long sequence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} rejected: {Reason}")]
    private partial void LogRejected(string? eventId, string? reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ingested a batch: {Accepted} accepted, {Duplicates} duplicates, {Rejected} rejected")]
    private partial void LogIngested(int accepted, int duplicates, int rejected);
}
