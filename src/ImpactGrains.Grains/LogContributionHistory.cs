using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Timeline;
using ImpactGrains.Storage;

namespace ImpactGrains.Grains;

/// <summary>An entity linked into another: its direct impact counts there at <see cref="Weight"/>, up to <see cref="Through"/>.</summary>
public readonly record struct InheritedStream(string From, double Weight, long Through);

/// <summary>
/// An entity's contributions as the event log holds them: its own events up to the sequence its grain has applied,
/// and the events of the entities linked into it up to what the grain has taken from each, scored and weighted, merged
/// into one time-ordered stream. The cold path of <see cref="EntityTimeline"/>; each stream is read in pages.
/// </summary>
public sealed class LogContributionHistory(IEventLog log, ImpactCalculator calculator, string entity, long ownThrough, IReadOnlyList<InheritedStream> sources)
    : IContributionHistory
{
    public async IAsyncEnumerable<Contribution> ReadAsync(long afterTicks, long throughTicks,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var streams = new List<IAsyncEnumerator<Contribution>>();
        try
        {
            streams.Add(Read(entity, 1.0, ownThrough, own: true, afterTicks, throughTicks, cancellationToken).GetAsyncEnumerator(cancellationToken));
            foreach (var source in sources)
            {
                if (source.Through > 0)
                {
                    streams.Add(Read(source.From, source.Weight, source.Through, own: false, afterTicks, throughTicks, cancellationToken).GetAsyncEnumerator(cancellationToken));
                }
            }

            // A k-way merge: each stream is already in time order.
            var heads = new PriorityQueue<int, Contribution>(Contribution.TimeOrder);
            for (var i = 0; i < streams.Count; i++)
            {
                if (await streams[i].MoveNextAsync())
                {
                    heads.Enqueue(i, streams[i].Current);
                }
            }

            while (heads.TryDequeue(out var i, out var next))
            {
                yield return next;
                if (await streams[i].MoveNextAsync())
                {
                    heads.Enqueue(i, streams[i].Current);
                }
            }
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }

    private async IAsyncEnumerable<Contribution> Read(string from, double weight, long throughSequence, bool own, long afterTicks, long throughTicks,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var logged in log.ReadEntityByTimeAsync(from, afterTicks, throughTicks, throughSequence, cancellationToken))
        {
            var scored = calculator.Score(logged.Event, logged.EntitySequence);
            yield return own ? Contribution.OwnEvent(scored, from) : Contribution.InheritedEvent(scored, from, weight);
        }
    }
}
