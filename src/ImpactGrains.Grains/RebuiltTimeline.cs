using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Timeline;
using ImpactGrains.Storage;

namespace ImpactGrains.Grains;

/// <summary>A timeline built again from the log, and how far it read: the own events, and each linked entity.</summary>
internal sealed record RebuiltTimeline(EntityTimeline Timeline, long OwnThrough, IReadOnlyDictionary<string, long> SourceThrough, string Generation)
{
    /// <summary>
    /// Builds an entity's timeline from the log on the thread pool, off its grain's turn: every own event up to
    /// <paramref name="ownThrough"/>, and every logged event of each linked entity at its weight, in time order.
    /// </summary>
    public static Task<RebuiltTimeline> BuildAsync(
        IEventLog log, ImpactCalculator calculator, DecayTable table, TimelineOptions options, string entity, long ownThrough, IReadOnlyList<InheritedStream> streams) =>
        Task.Run(async () =>
        {
            var rebuilt = new EntityTimeline(entity, table, options);
            var through = streams.ToDictionary(s => s.From, _ => 0L, StringComparer.Ordinal);
            await foreach (var c in new LogContributionHistory(log, calculator, entity, ownThrough, streams).ReadAsync(long.MinValue, long.MaxValue))
            {
                rebuilt.Add(c);
                if (!c.Own)
                {
                    through[c.Source] = Math.Max(through[c.Source], c.Sequence);
                }
            }

            return new RebuiltTimeline(rebuilt, ownThrough, through, TimelineChunkBook.NewGeneration(table.Model.Identity));
        });
}
