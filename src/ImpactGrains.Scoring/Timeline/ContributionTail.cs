using System.Collections;
using System.Runtime.InteropServices;

namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// The timeline's tail: contributions in <see cref="Contribution.TimeOrder"/>, added at (or near) the end and sealed
/// from the front. Removing from the front moves nothing: the list keeps a start offset and is compacted only once the
/// removed part is half of it. A plain list moved the whole tail on every seal, and a busy entity's tail holds every
/// contribution of the last <see cref="TimelineOptions.LateAllowance"/> (70,000 at 14,000 events/s): copying it, with a
/// GC write barrier per reference, took a seventh of the server's CPU when every event went to one entity.
/// </summary>
public sealed class ContributionTail : IReadOnlyList<Contribution>
{
    // Compacting below this many removed contributions would copy more often than it saves memory.
    private const int CompactAtLeast = 1024;

    private readonly List<Contribution> items = [];
    private int start;

    public int Count => items.Count - start;

    public Contribution this[int index] => items[start + index];

    public Contribution Last => items[^1];

    /// <summary>Adds <paramref name="c"/> in time order: at the end when it is the latest, as it nearly always is.</summary>
    public void Insert(in Contribution c)
    {
        if (Count == 0 || Contribution.TimeOrder.Compare(items[^1], c) <= 0)
        {
            items.Add(c);
            return;
        }

        var index = items.BinarySearch(start, Count, c, Contribution.TimeOrder);
        items.Insert(index < 0 ? ~index : index, c);
    }

    /// <summary>The index of the first contribution later than <paramref name="ticks"/> (<see cref="Count"/> when none is).</summary>
    public int FirstAfter(long ticks)
    {
        int lo = start, hi = items.Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (items[mid].Ticks <= ticks)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo - start;
    }

    /// <summary>Adds <paramref name="c"/> at the end; the caller knows it is the latest (a restore reads them in order).</summary>
    public void Append(in Contribution c) => items.Add(c);

    /// <summary>Removes the first <paramref name="n"/> contributions.</summary>
    public void RemoveFirst(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, Count);
        // Clear what was removed, so that the strings it names can be collected before the next compaction.
        CollectionsMarshal.AsSpan(items).Slice(start, n).Clear();
        start += n;
        if (start == items.Count)
        {
            Clear();
        }
        else if (start >= CompactAtLeast && start >= items.Count / 2)
        {
            items.RemoveRange(0, start);
            start = 0;
        }
    }

    public void Clear()
    {
        items.Clear();
        start = 0;
    }

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<Contribution> IEnumerable<Contribution>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Enumerates without allocating; the tail must not change meanwhile.</summary>
    public struct Enumerator(ContributionTail tail) : IEnumerator<Contribution>
    {
        private int index = tail.start - 1;

        public readonly Contribution Current => tail.items[index];

        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => ++index < tail.items.Count;

        public void Reset() => index = tail.start - 1;

        public readonly void Dispose()
        {
        }
    }
}
