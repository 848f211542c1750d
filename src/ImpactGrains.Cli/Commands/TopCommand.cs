using System.CommandLine;
using System.Globalization;
using ImpactGrains.Client;
using Spectre.Console;

namespace ImpactGrains.Cli.Commands;

/// <summary><c>impact top [--kind --category --region --limit --at]</c>: the leaderboard.</summary>
internal static class TopCommand
{
    public static readonly string[] Kinds = ["company", "person", "organization", "product"];
    public static readonly string[] Categories = ["operational", "market", "financial", "reputational"];

    public static Command Build(CliEnvironment environment)
    {
        var kind = new Option<string?>("--kind") { Description = "Only entities of this kind" };
        kind.AcceptOnlyFromAmong(Kinds);
        var category = new Option<string?>("--category") { Description = "Rank by this category's score" };
        category.AcceptOnlyFromAmong(Categories);
        var region = new Option<string?>("--region") { Description = "Rank by this region's score: an ISO 3166-1 alpha-2 code or GLOBAL" };
        var limit = new Option<int>("--limit") { Description = "How many entities (1–1000)", DefaultValueFactory = _ => 10 };
        var at = new Option<string?>("--at") { Description = "An RFC 3339 instant (default: now, the live ranking)" };
        var command = new Command("top", "The leaderboard: entities ranked by score, a category's or a region's") { kind, category, region, limit, at };
        command.SetHandler(environment, async (context, cancellationToken) =>
        {
            var count = context.Get(limit);
            if (count is < 1 or > 1000)
            {
                throw new UsageException("--limit: must be a whole number from 1 to 1000");
            }

            if (context.Get(category) is not null && context.Get(region) is not null)
            {
                throw new UsageException("--category and --region cannot be combined");
            }

            var when = context.Get(at);
            // An instant given with --at goes to the server as typed: the server judges it.
            var board = when is null
                ? await context.Api.GetLeaderboardAsync(context.Get(kind), context.Get(category), context.Get(region), count, cancellationToken: cancellationToken)
                : await context.Api.GetAsync<LeaderboardResponse>(CommandContext.Route("api/{0}", "leaderboard",
                    ("kind", context.Get(kind)), ("category", context.Get(category)), ("region", context.Get(region)),
                    ("limit", count.ToString(CultureInfo.InvariantCulture)), ("at", when)), cancellationToken);
            var basis = board.Category is { Length: > 0 } c ? $"{c} score"
                : board.Region is { Length: > 0 } r ? $"score in {r}"
                : "score";
            var scope = board.Kind is { Length: > 0 } k ? $"{k} entities" : "entities";
            var entries = board.Entries;
            var console = context.Out;
            console.MarkupLine($"Leaderboard of {Format.Escape(scope)} by {Format.Escape(basis)} at {Format.Instant(board.At)}");
            if (entries.Count == 0)
            {
                console.MarkupLine("No entity has impact.");
                return ImpactCli.Ok;
            }

            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn(new TableColumn("#").RightAligned()).AddColumn("Entity").AddColumn("Name").AddColumn("Kind")
                .AddColumn(new TableColumn("Score").RightAligned());
            var rank = 0;
            foreach (var entry in entries)
            {
                table.AddRow(
                    (++rank).ToString(CultureInfo.InvariantCulture),
                    Format.Escape(entry.Entity),
                    Format.Escape(entry.Name),
                    Format.Escape(entry.Kind),
                    Format.Score(entry.Score));
            }

            console.Write(table);
            return ImpactCli.Ok;
        });
        return command;
    }
}
