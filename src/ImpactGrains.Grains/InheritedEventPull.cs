using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Timeline;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;

namespace ImpactGrains.Grains;

/// <summary>
/// Pulls into an entity's live state what the entities linked into it have applied since the last pull: from their
/// grains' recent events, or from the log for a source fallen behind them. A source that cannot answer is skipped
/// (logged): a query answers with what is known rather than fail, and the next one pulls again.
/// </summary>
internal sealed partial class InheritedEventPull(IGrainFactory grains, IEventLog log, Action startRebuild, ILogger logger)
{
    /// <summary>
    /// Asks every source at once, then applies each answer in turn; how many events were inherited. A source that
    /// started over from its log (its count went back) starts the timeline's rebuild at once.
    /// </summary>
    public async Task<int> PullAsync(EntityLiveState live, InboundLinks sources, ImpactCalculator scoring)
    {
        var inherited = 0;
        var pulls = sources.All.Select(s => (Source: s, Pull: grains.GetEntityGrain(s.From).GetDirectEventsAsync(s.AppliedSequence))).ToList();
        foreach (var (source, pull) in pulls)
        {
            try
            {
                var direct = await pull;
                if (direct.AppliedSequence < source.AppliedSequence)
                {
                    // The source started over from its log (a restore that lost nothing but its count): build again.
                    startRebuild();
                    continue;
                }

                IEnumerable<ScoredEvent> events = direct.Events;
                if (!direct.Complete)
                {
                    // Fallen behind what the source keeps in memory: the rest comes from the log.
                    events = (await log.ReadEntityAsync(source.From, source.AppliedSequence, direct.AppliedSequence))
                        .Select(e => scoring.Score(e.Event, e.EntitySequence));
                }

                foreach (var e in events)
                {
                    if (live.Inherit(e, source))
                    {
                        inherited++;
                    }
                }
            }
            catch (Exception ex)
            {
                LogInheritedUnavailable(ex, live.Entity, source.From);
            }
        }

        return inherited;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Entity {Entity} could not pull inherited events from {Source}; answering with what it has")]
    private partial void LogInheritedUnavailable(Exception exception, string entity, string source);
}
