using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Operations;

/// <summary>
/// Rebuilds every entity's score from the event log and the catalog alone, without any grain, under any scoring model.
/// The log is read in sequence order and the catalog in id order, so the same log and model give the same numbers.
/// </summary>
public sealed class ScoreRebuilder(IEventLog log, IEntityCatalog catalog)
{
    /// <summary>Every entity's impact at <paramref name="at"/> under <paramref name="model"/>, by entity id.</summary>
    public async Task<IReadOnlyDictionary<string, ImpactBreakdown>> RebuildAsync(ScoringModel model, DateTimeOffset at, CancellationToken cancellationToken) =>
        (await RebuildAsync([model], at, cancellationToken))[0];

    /// <summary>The same under several models, reading the log once: one result per model, in the order given.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, ImpactBreakdown>>> RebuildAsync(
        IReadOnlyList<ScoringModel> models, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var scorers = models.Select(m => (Calculator: new ImpactCalculator(m), Table: new DecayTable(m))).ToList();
        var entities = await catalog.ListEntitiesAsync(cancellationToken);
        var ledgers = scorers.Select(_ => new Dictionary<string, EventLedger>(StringComparer.Ordinal)).ToList();
        foreach (var entity in entities)
        {
            var events = await log.ReadEntityAsync(entity.Id, 0, long.MaxValue, cancellationToken);
            for (var i = 0; i < scorers.Count; i++)
            {
                var ledger = new EventLedger(scorers[i].Table);
                foreach (var logged in events)
                {
                    ledger.TryAdd(scorers[i].Calculator.Score(logged.Event, logged.EntitySequence));
                }

                ledgers[i][entity.Id] = ledger;
            }
        }

        var results = scorers.Select(_ => new Dictionary<string, ImpactBreakdown>(StringComparer.Ordinal)).ToList();
        foreach (var entity in entities)
        {
            var links = (await catalog.LinksOfAsync(entity.Id, cancellationToken))
                .Where(l => l.To == entity.Id && ledgers[0].ContainsKey(l.From))
                .ToList();
            for (var i = 0; i < scorers.Count; i++)
            {
                var sources = links.Select(l => new InheritedSource(l.From, l.Weight, ledgers[i][l.From])).ToList();
                results[i][entity.Id] = new ImpactView(entity.Id, ledgers[i][entity.Id], sources).Evaluate(at);
            }
        }

        return results;
    }
}
