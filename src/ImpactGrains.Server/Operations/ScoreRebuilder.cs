using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Operations;

/// <summary>Rebuilds every entity's score from the event log and the catalog alone, without any grain.</summary>
public sealed class ScoreRebuilder(IEventLog log, IEntityCatalog catalog, ImpactCalculator calculator, DecayTable table)
{
    public async Task<IReadOnlyDictionary<string, ImpactBreakdown>> RebuildAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        var entities = await catalog.ListEntitiesAsync(cancellationToken);
        var ledgers = new Dictionary<string, EventLedger>(StringComparer.Ordinal);
        foreach (var entity in entities)
        {
            var ledger = new EventLedger(table);
            foreach (var logged in await log.ReadEntityAsync(entity.Id, 0, long.MaxValue, cancellationToken))
            {
                ledger.TryAdd(calculator.Score(logged.Event, logged.EntitySequence));
            }

            ledgers[entity.Id] = ledger;
        }

        var result = new Dictionary<string, ImpactBreakdown>(StringComparer.Ordinal);
        foreach (var entity in entities)
        {
            var sources = (await catalog.LinksOfAsync(entity.Id, cancellationToken))
                .Where(l => l.To == entity.Id && ledgers.ContainsKey(l.From))
                .Select(l => new InheritedSource(l.From, l.Weight, ledgers[l.From]))
                .ToList();
            result[entity.Id] = new ImpactView(entity.Id, ledgers[entity.Id], sources).Evaluate(at);
        }

        return result;
    }
}
