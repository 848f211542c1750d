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
        TopOfDecayed(standings.Select(s => (s, s.Vector.DecayTo(atTicks, table))).ToList(), board, table, limit);

    private static List<Ranked> TopOfDecayed(IReadOnlyList<(Standing Standing, ImpactVector Decayed)> decayed, Board board, DecayTable table, int limit) =>
        decayed
            .Select(d => new Ranked(d.Standing, ScoreOfDecayed(d.Standing, d.Decayed, board, table)))
            .Where(r => r.Score > 0)
            .OrderByDescending(r => r.Score)
            .ThenBy(r => r.Standing.Entity, StringComparer.Ordinal)
            .Take(limit)
            .ToList();

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
    public static IReadOnlyList<Standing> Candidates(IReadOnlyCollection<Standing> standings, long atTicks, DecayTable table, int k)
    {
        var chosen = new Dictionary<string, Standing>(StringComparer.Ordinal);
        var decayed = standings.Select(s => (s, s.Vector.DecayTo(atTicks, table))).ToList();
        foreach (var board in BoardsFor(standings))
        {
            foreach (var ranked in TopOfDecayed(decayed, board, table, k))
            {
                chosen.TryAdd(ranked.Standing.Entity, ranked.Standing);
            }
        }

        return chosen.Values.ToList();
    }
}
