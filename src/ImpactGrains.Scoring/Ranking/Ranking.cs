using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Ranking;

/// <summary>An entity's last reported impact, enough to rank it at any later instant.</summary>
public sealed record Standing(string Entity, string Name, EntityKind Kind, ImpactVector Vector);

/// <summary>One leaderboard: which entities (by kind), ranked by what (overall, a category or a region).</summary>
public sealed record Board(EntityKind? Kind, EventCategory? Category, string? Region)
{
    public static readonly Board Global = new(null, null, null);
}

public readonly record struct Ranked(Standing Standing, double Score);

public static class Rankings
{
    /// <summary>The entity's score on a board at an instant at or after its report; NaN when the board excludes it.</summary>
    public static double ScoreOn(Standing standing, Board board, long atTicks, DecayTable table) =>
        ScoreOfDecayed(standing, standing.Vector.DecayTo(atTicks, table), board, table);

    private static double ScoreOfDecayed(Standing standing, ImpactVector decayed, Board board, DecayTable table)
    {
        if (board.Kind is { } kind && standing.Kind != kind)
        {
            return double.NaN;
        }

        var raw = board.Region is { } region
            ? decayed.Regions.TryGetValue(region, out var regional) ? regional.Sum() : 0
            : board.Category is { } category ? decayed.Category(category) : decayed.Total;
        return table.ToScore(raw);
    }

    /// <summary>The highest scores on a board, ties broken by entity id.</summary>
    public static IReadOnlyList<Ranked> Top(IEnumerable<Standing> standings, Board board, long atTicks, DecayTable table, int limit) =>
        TopOfDecayed(standings.Select(s => new DecayFactors(s, atTicks, table)).ToList(), board, table, limit);

    // Ranking scores each standing on a board from its decay factors, without building the decayed vector (one array
    // per region per standing): the leaderboard ranks every candidate on every query and every publication, and those
    // allocations were most of its cost (bench/, docs/performance.md). The arithmetic is ScoreOfDecayed's, term by term.
    private static List<Ranked> TopOfDecayed(IReadOnlyList<DecayFactors> decayed, Board board, DecayTable table, int limit) =>
        decayed
            .Where(d => board.Kind is not { } kind || d.Standing.Kind == kind)
            .Select(d => new Ranked(d.Standing, table.ToScore(d.RawOn(board))))
            .Where(r => r.Score > 0)
            .OrderByDescending(r => r.Score)
            .ThenBy(r => r.Standing.Entity, StringComparer.Ordinal)
            .Take(limit)
            .ToList();

    /// <summary>A standing with the factors that carry each event type's impact from its report to an instant.</summary>
    private sealed class DecayFactors
    {
        private readonly double[] factors = new double[EventTypes.Count];

        public DecayFactors(Standing standing, long atTicks, DecayTable table)
        {
            Standing = standing;
            var elapsed = Math.Max(0, atTicks - standing.Vector.AtTicks);
            for (var i = 0; i < factors.Length; i++)
            {
                factors[i] = table.DecayFactor((EventType)i, elapsed);
            }
        }

        public Standing Standing { get; }

        /// <summary>The raw impact on the board, summed in the order ImpactVector.DecayTo and its sums use.</summary>
        public double RawOn(Board board)
        {
            var vector = Standing.Vector;
            if (board.Region is { } region)
            {
                return vector.Regions.TryGetValue(region, out var regional) ? Decayed(regional) : 0;
            }

            if (board.Category is { } category)
            {
                var sum = 0.0;
                foreach (var type in EventTypes.All)
                {
                    if (EventTypes.CategoryOf(type) == category)
                    {
                        sum += vector.Direct[(int)type] * factors[(int)type] + vector.Inherited[(int)type] * factors[(int)type];
                    }
                }

                return sum;
            }

            return Decayed(vector.Direct) + Decayed(vector.Inherited);
        }

        private double Decayed(double[] values)
        {
            var sum = 0.0;
            for (var i = 0; i < values.Length; i++)
            {
                sum += values[i] * factors[i];
            }

            return sum;
        }
    }

    /// <summary>
    /// Every board an entity can appear on: overall, per category and per region present, each for all kinds and per
    /// kind. A partition that keeps its top K on each holds every entity that can be in a global top K.
    /// </summary>
    public static IEnumerable<Board> BoardsFor(IEnumerable<Standing> standings)
    {
        var regions = standings.SelectMany(s => s.Vector.Regions.Keys).Distinct(StringComparer.Ordinal).ToList();
        var kinds = new EntityKind?[] { null }.Concat(Enum.GetValues<EntityKind>().Select(k => (EntityKind?)k));
        foreach (var kind in kinds)
        {
            yield return new Board(kind, null, null);
            foreach (var category in EventTypes.Categories)
            {
                yield return new Board(kind, category, null);
            }

            foreach (var region in regions)
            {
                yield return new Board(kind, null, region);
            }
        }
    }

    /// <summary>The union of the top <paramref name="k"/> on every board: the candidates a partition publishes.</summary>
    /// <remarks>
    /// Every partition runs this several times a second over all its entities and every board; with full sorts it was a
    /// quarter of the server's CPU under load (bench/, docs/performance.md). Only membership matters here, so each
    /// board keeps its top k in a bounded heap: same members as <see cref="Top"/>, ties by entity id alike.
    /// </remarks>
    public static IReadOnlyList<Standing> Candidates(IReadOnlyCollection<Standing> standings, long atTicks, DecayTable table, int k)
    {
        var chosen = new Dictionary<string, Standing>(StringComparer.Ordinal);
        var decayed = standings.Select(s => new DecayFactors(s, atTicks, table)).ToList();
        var scores = new double[decayed.Count];
        var kinds = new EntityKind?[] { null }.Concat(Enum.GetValues<EntityKind>().Select(k => (EntityKind?)k)).ToList();
        var top = new PriorityQueue<Standing, (double Score, string Entity)>(k + 1, WorstFirst);

        // BoardsFor gives every (category, region) board once per kind; an entity's score on it does not depend on
        // the kind filter, so it is computed once and ranked for each kind.
        foreach (var board in BoardsFor(standings).Where(b => b.Kind is null))
        {
            for (var i = 0; i < decayed.Count; i++)
            {
                scores[i] = table.ToScore(decayed[i].RawOn(board));
            }

            foreach (var kind in kinds)
            {
                top.Clear();
                for (var i = 0; i < decayed.Count; i++)
                {
                    var standing = decayed[i].Standing;
                    if (!(scores[i] > 0) || (kind is { } only && standing.Kind != only))
                    {
                        continue;
                    }

                    if (top.Count < k)
                    {
                        top.Enqueue(standing, (scores[i], standing.Entity));
                    }
                    else if (WorstFirst.Compare((scores[i], standing.Entity), PeekPriority(top)) > 0)
                    {
                        top.DequeueEnqueue(standing, (scores[i], standing.Entity));
                    }
                }

                foreach (var (standing, _) in top.UnorderedItems)
                {
                    chosen.TryAdd(standing.Entity, standing);
                }
            }
        }

        return chosen.Values.ToList();
    }

    private static (double Score, string Entity) PeekPriority(PriorityQueue<Standing, (double Score, string Entity)> queue) =>
        queue.TryPeek(out _, out var priority) ? priority : default;

    /// <summary>Orders from worst to best: a lower score, or the same score and a later entity id, is worse.</summary>
    private static readonly IComparer<(double Score, string Entity)> WorstFirst = Comparer<(double Score, string Entity)>.Create((a, b) =>
    {
        var byScore = a.Score.CompareTo(b.Score);
        return byScore != 0 ? byScore : string.CompareOrdinal(b.Entity, a.Entity);
    });
}
