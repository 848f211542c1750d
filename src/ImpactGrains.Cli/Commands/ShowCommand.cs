using System.CommandLine;
using System.Globalization;
using ImpactGrains.Client;
using Spectre.Console;

namespace ImpactGrains.Cli.Commands;

/// <summary><c>impact show ENTITY [--at] [--limit]</c>: an entity's score, breakdown and the events behind it.</summary>
internal static class ShowCommand
{
    public static Command Build(CliEnvironment environment)
    {
        var entity = new Argument<string>("ENTITY") { Description = "The entity id, such as tesla" };
        var at = new Option<string?>("--at") { Description = "An RFC 3339 instant, such as 2025-03-10T14:00:00Z (default: now)" };
        var limit = new Option<int>("--limit") { Description = "Events in the explanation (1–1000)", DefaultValueFactory = _ => 10 };
        var command = new Command("show", "An entity's score, direct and inherited impact, peak, trend, categories, regions and the events behind it")
        {
            entity, at, limit,
        };
        command.SetHandler(environment, async (context, cancellationToken) =>
        {
            var id = context.Get(entity)!;
            var when = context.Get(at);
            var count = context.Get(limit);
            if (count is < 1 or > 1000)
            {
                throw new UsageException("--limit: must be a whole number from 1 to 1000");
            }

            var api = context.Api;
            var details = await api.GetEntityAsync(id, cancellationToken);
            // An instant given with --at goes to the server as typed: the server judges it.
            var impact = when is null
                ? await api.GetImpactAsync(id, cancellationToken: cancellationToken)
                : await api.GetAsync<ImpactReport>(CommandContext.Route("api/entities/{0}/impact", id, ("at", when)), cancellationToken);
            var explain = when is null
                ? await api.ExplainAsync(id, limit: count, cancellationToken: cancellationToken)
                : await api.GetAsync<ExplainReport>(
                    CommandContext.Route("api/entities/{0}/explain", id, ("at", when), ("limit", count.ToString(CultureInfo.InvariantCulture))), cancellationToken);
            Write(context.Out, details, impact, explain);
            return ImpactCli.Ok;
        });
        return command;
    }

    private static void Write(IAnsiConsole console, Entity details, ImpactReport impact, ExplainReport explain)
    {
        var id = impact.Entity;
        console.MarkupLine(
            $"[bold]{Format.Escape(details.Name)}[/] ({Format.Escape(id)}, {Format.Escape(details.Kind)}) " +
            $"at {Format.Instant(impact.At)}, model {Format.Escape(impact.ModelVersion)}");

        var scores = new Table().Border(TableBorder.Rounded).Title("Score");
        scores.AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned()).AddColumn("");
        scores.AddRow("Score", $"[bold]{Format.Score(impact.Score)}[/]", "0–100");
        scores.AddRow("Direct", Format.Score(impact.Direct), "from its own events");
        scores.AddRow("Inherited", Format.Score(impact.Inherited), "through links");
        scores.AddRow("Peak", Format.Score(impact.Peak.Score), $"at {Format.Instant(impact.Peak.At)}");
        scores.AddRow("Trend 24h", Format.Signed(impact.Trend24h), "change over 24 hours");
        scores.AddRow("Events", impact.EventCount.ToString(CultureInfo.InvariantCulture), "its own, up to this instant");
        console.Write(scores);

        var categories = new Table().Border(TableBorder.Rounded).Title("Categories");
        categories.AddColumn("Category").AddColumn(new TableColumn("Score").RightAligned());
        foreach (var (name, value) in impact.Categories)
        {
            categories.AddRow(Format.Escape(name), Format.Score(value));
        }

        var regions = new Table().Border(TableBorder.Rounded).Title("Regions");
        regions.AddColumn("Region").AddColumn(new TableColumn("Score").RightAligned());
        foreach (var (name, value) in impact.Regions.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal))
        {
            regions.AddRow(Format.Escape(name), Format.Score(value));
        }

        if (regions.Rows.Count == 0)
        {
            regions.AddRow("–", "");
        }

        console.Write(new Columns(categories, regions) { Expand = false });

        if (explain.Contributions.Count == 0)
        {
            console.MarkupLine("No events behind the score.");
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).Title("Explanation: the events behind the score, largest first");
        table.AddColumn(new TableColumn("#").RightAligned()).AddColumn("Event").AddColumn("Entity").AddColumn("Type").AddColumn("Occurred")
            .AddColumn("Category").AddColumn(new TableColumn("Contribution").RightAligned()).AddColumn(new TableColumn("Share").RightAligned());
        var rank = 0;
        foreach (var contribution in explain.Contributions)
        {
            var from = contribution.Entity;
            table.AddRow(
                (++rank).ToString(CultureInfo.InvariantCulture),
                Format.Escape(contribution.EventId),
                from == id ? Format.Escape(from) : $"{Format.Escape(from)} [grey](inherited)[/]",
                Format.Escape(contribution.Type),
                Format.Instant(contribution.OccurredAt),
                Format.Escape(contribution.Category),
                Format.Score(contribution.Contribution),
                Format.Percent(contribution.Share));
        }

        console.Write(table);
    }
}
