using System.CommandLine;
using System.Text.Json;
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
            var details = await api.GetJsonAsync(ApiClient.Path("api/entities/{0}", id), cancellationToken);
            var impact = await api.GetJsonAsync(ApiClient.Query(ApiClient.Path("api/entities/{0}/impact", id), ("at", when)), cancellationToken);
            var explain = await api.GetJsonAsync(
                ApiClient.Query(ApiClient.Path("api/entities/{0}/explain", id), ("at", when), ("limit", count.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                cancellationToken);
            Write(context.Out, details, impact, explain);
            return ImpactCli.Ok;
        });
        return command;
    }

    private static void Write(IAnsiConsole console, JsonElement details, JsonElement impact, JsonElement explain)
    {
        var id = Format.Text(impact, "entity");
        console.MarkupLine(
            $"[bold]{Format.Escape(Format.Text(details, "name"))}[/] ({Format.Escape(id)}, {Format.Escape(Format.Text(details, "kind"))}) " +
            $"at {Format.Instant(Format.Get(impact, "at"))}, model {Format.Escape(Format.Text(impact, "modelVersion"))}");

        var peak = Format.Get(impact, "peak");
        var scores = new Table().Border(TableBorder.Rounded).Title("Score");
        scores.AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned()).AddColumn("");
        scores.AddRow("Score", $"[bold]{Format.Score(Format.Double(impact, "score"))}[/]", "0–100");
        scores.AddRow("Direct", Format.Score(Format.Double(impact, "direct")), "from its own events");
        scores.AddRow("Inherited", Format.Score(Format.Double(impact, "inherited")), "through links");
        scores.AddRow("Peak", Format.Score(Format.Double(peak, "score")), $"at {Format.Instant(Format.Get(peak, "at"))}");
        scores.AddRow("Trend 24h", Format.Signed(Format.Double(impact, "trend24h")), "change over 24 hours");
        scores.AddRow("Events", Format.Text(impact, "eventCount"), "its own, up to this instant");
        console.Write(scores);

        var categories = new Table().Border(TableBorder.Rounded).Title("Categories");
        categories.AddColumn("Category").AddColumn(new TableColumn("Score").RightAligned());
        foreach (var category in Properties(Format.Get(impact, "categories")))
        {
            categories.AddRow(Format.Escape(category.Name), Format.Score(category.Value));
        }

        var regions = new Table().Border(TableBorder.Rounded).Title("Regions");
        regions.AddColumn("Region").AddColumn(new TableColumn("Score").RightAligned());
        foreach (var region in Properties(Format.Get(impact, "regions")).OrderByDescending(r => r.Value).ThenBy(r => r.Name, StringComparer.Ordinal))
        {
            regions.AddRow(Format.Escape(region.Name), Format.Score(region.Value));
        }

        if (regions.Rows.Count == 0)
        {
            regions.AddRow("–", "");
        }

        console.Write(new Columns(categories, regions) { Expand = false });

        var contributions = Format.Array(explain, "contributions").ToList();
        if (contributions.Count == 0)
        {
            console.MarkupLine("No events behind the score.");
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).Title("Explanation: the events behind the score, largest first");
        table.AddColumn(new TableColumn("#").RightAligned()).AddColumn("Event").AddColumn("Entity").AddColumn("Type").AddColumn("Occurred")
            .AddColumn("Category").AddColumn(new TableColumn("Contribution").RightAligned()).AddColumn(new TableColumn("Share").RightAligned());
        var rank = 0;
        foreach (var contribution in contributions)
        {
            var from = Format.Text(contribution, "entity");
            table.AddRow(
                (++rank).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Format.Escape(Format.Text(contribution, "eventId")),
                from == id ? Format.Escape(from) : $"{Format.Escape(from)} [grey](inherited)[/]",
                Format.Escape(Format.Text(contribution, "type")),
                Format.Instant(Format.Get(contribution, "occurredAt")),
                Format.Escape(Format.Text(contribution, "category")),
                Format.Score(Format.Double(contribution, "contribution")),
                Format.Percent(Format.Double(contribution, "share")));
        }

        console.Write(table);
    }

    internal static IEnumerable<(string Name, double Value)> Properties(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
            ? element.EnumerateObject().Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble() : 0))
            : [];
}
