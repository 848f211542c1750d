using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ImpactGrains.Cli.Commands;

/// <summary><c>impact entities|links|groups</c>: the administration of entities, links and groups.</summary>
internal static class AdminCommands
{
    public static readonly string[] Methods = ["max", "weighted-sum", "noisy-or"];

    public static Command BuildEntities(CliEnvironment environment)
    {
        var list = new Command("list", "Every entity with its current score");
        list.SetHandler(environment, async (context, cancellationToken) =>
        {
            var entities = await context.Api.GetJsonAsync("api/entities", cancellationToken);
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn("Id").AddColumn("Name").AddColumn("Kind").AddColumn(new TableColumn("Score").RightAligned());
            foreach (var entity in entities.ValueKind == JsonValueKind.Array ? entities.EnumerateArray() : default)
            {
                table.AddRow(
                    Format.Escape(Format.Text(entity, "id")),
                    Format.Escape(Format.Text(entity, "name")),
                    Format.Escape(Format.Text(entity, "kind")),
                    Format.Score(Format.Double(entity, "score")));
            }

            context.Out.Write(table);
            context.Out.MarkupLine($"{Format.Count(table.Rows.Count)} entit{(table.Rows.Count == 1 ? "y" : "ies")}");
            return ImpactCli.Ok;
        });

        var getId = new Argument<string>("ID") { Description = "The entity id" };
        var get = new Command("get", "An entity with its links") { getId };
        get.SetHandler(environment, async (context, cancellationToken) =>
        {
            var entity = await context.Api.GetJsonAsync(ApiClient.Path("api/entities/{0}", context.Get(getId)!), cancellationToken);
            WriteEntity(context.Out, entity);
            return ImpactCli.Ok;
        });

        var putId = new Argument<string>("ID") { Description = "The entity id: lower-case letters, digits and '-', such as acme" };
        var name = new Option<string>("--name") { Description = "The display name", Required = true };
        var kind = new Option<string>("--kind") { Description = "company, person, organization or product", Required = true };
        kind.AcceptOnlyFromAmong(TopCommand.Kinds);
        var tags = new Option<string[]>("--tag") { Description = "A tag (repeat for more)", AllowMultipleArgumentsPerToken = false };
        var put = new Command("put", "Create or update an entity (name, kind and tags are replaced)") { putId, name, kind, tags };
        put.SetHandler(environment, async (context, cancellationToken) =>
        {
            var id = context.Get(putId)!;
            var body = new JsonObject
            {
                ["name"] = context.Get(name),
                ["kind"] = context.Get(kind),
                ["tags"] = new JsonArray((context.Get(tags) ?? []).Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            };
            var (status, entity) = await context.Api.SendJsonAsync(HttpMethod.Put, ApiClient.Path("api/entities/{0}", id), body, cancellationToken);
            context.Out.MarkupLine($"{(status == HttpStatusCode.Created ? "created" : "updated")} entity {Format.Escape(Format.Text(entity, "id"))} " +
                                   $"({Format.Escape(Format.Text(entity, "name"))}, {Format.Escape(Format.Text(entity, "kind"))})");
            return ImpactCli.Ok;
        });

        return new Command("entities", "List, show, create and update entities") { list, get, put };
    }

    private static void WriteEntity(IAnsiConsole console, JsonElement entity)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Entity");
        table.AddColumn("Field").AddColumn("Value");
        table.AddRow("Id", Format.Escape(Format.Text(entity, "id")));
        table.AddRow("Name", Format.Escape(Format.Text(entity, "name")));
        table.AddRow("Kind", Format.Escape(Format.Text(entity, "kind")));
        table.AddRow("Tags", Format.Escape(string.Join(", ", Format.Array(entity, "tags").Select(t => t.ToString()))));
        table.AddRow("Created", Format.Instant(Format.Get(entity, "createdAt")));
        table.AddRow("Updated", Format.Instant(Format.Get(entity, "updatedAt")));
        console.Write(table);

        var links = Format.Array(entity, "links").ToList();
        if (links.Count == 0)
        {
            console.MarkupLine("No links.");
            return;
        }

        var linkTable = new Table().Border(TableBorder.Rounded).Title("Links");
        linkTable.AddColumn("From").AddColumn("To").AddColumn(new TableColumn("Weight").RightAligned()).AddColumn("Relation");
        foreach (var link in links)
        {
            linkTable.AddRow(
                Format.Escape(Format.Text(link, "from")),
                Format.Escape(Format.Text(link, "to")),
                Format.Number(Format.Double(link, "weight")),
                Format.Escape(Format.Text(link, "relation")));
        }

        console.Write(linkTable);
    }

    public static Command BuildLinks(CliEnvironment environment)
    {
        var from = new Option<string>("--from") { Description = "The entity whose direct impact flows", Required = true };
        var to = new Option<string>("--to") { Description = "The entity that inherits it", Required = true };
        var weight = new Option<double>("--weight") { Description = "The share that flows, in (0, 1]", Required = true };
        var relation = new Option<string>("--relation") { Description = "What the link is, such as ceo or owner", Required = true };
        var put = new Command("put", "Create or update the link from one entity to another") { from, to, weight, relation };
        put.SetHandler(environment, async (context, cancellationToken) =>
        {
            var w = context.Get(weight);
            if (!(w > 0 && w <= 1))
            {
                throw new UsageException("--weight: must be a number in (0, 1]");
            }

            var body = new JsonObject
            {
                ["from"] = context.Get(from),
                ["to"] = context.Get(to),
                ["weight"] = w,
                ["relation"] = context.Get(relation),
            };
            var (status, link) = await context.Api.SendJsonAsync(HttpMethod.Put, "api/links", body, cancellationToken);
            context.Out.MarkupLine($"{(status == HttpStatusCode.Created ? "created" : "updated")} link {Format.Escape(Format.Text(link, "from"))} → " +
                                   $"{Format.Escape(Format.Text(link, "to"))} (weight {Format.Number(Format.Double(link, "weight"))}, {Format.Escape(Format.Text(link, "relation"))})");
            return ImpactCli.Ok;
        });

        var deleteFrom = new Option<string>("--from") { Description = "The link's source entity", Required = true };
        var deleteTo = new Option<string>("--to") { Description = "The link's target entity", Required = true };
        var delete = new Command("delete", "Remove a link") { deleteFrom, deleteTo };
        delete.SetHandler(environment, async (context, cancellationToken) =>
        {
            var f = context.Get(deleteFrom)!;
            var t = context.Get(deleteTo)!;
            await context.Api.SendJsonAsync(HttpMethod.Delete, ApiClient.Query("api/links", ("from", f), ("to", t)), null, cancellationToken);
            context.Out.MarkupLine($"deleted link {Format.Escape(f)} → {Format.Escape(t)}");
            return ImpactCli.Ok;
        });

        return new Command("links", "Create, update and remove links between entities") { put, delete };
    }

    public static Command BuildGroups(CliEnvironment environment)
    {
        var list = new Command("list", "Every group's definition");
        list.SetHandler(environment, async (context, cancellationToken) =>
        {
            var groups = await context.Api.GetJsonAsync("api/groups", cancellationToken);
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn("Id").AddColumn("Name").AddColumn("Method").AddColumn("Members");
            foreach (var group in groups.ValueKind == JsonValueKind.Array ? groups.EnumerateArray() : default)
            {
                table.AddRow(
                    Format.Escape(Format.Text(group, "id")),
                    Format.Escape(Format.Text(group, "name")),
                    Format.Escape(Format.Text(group, "method")),
                    Format.Escape(string.Join(", ", Format.Array(group, "members").Select(Member))));
            }

            context.Out.Write(table);
            context.Out.MarkupLine($"{Format.Count(table.Rows.Count)} group{(table.Rows.Count == 1 ? "" : "s")}");
            return ImpactCli.Ok;
        });

        var getId = new Argument<string>("ID") { Description = "The group id" };
        var at = new Option<string?>("--at") { Description = "An RFC 3339 instant for the group's score (default: now)" };
        var get = new Command("get", "A group's definition and its score with each member's share") { getId, at };
        get.SetHandler(environment, async (context, cancellationToken) =>
        {
            var id = context.Get(getId)!;
            var group = await context.Api.GetJsonAsync(ApiClient.Path("api/groups/{0}", id), cancellationToken);
            var impact = await context.Api.GetJsonAsync(ApiClient.Query(ApiClient.Path("api/groups/{0}/impact", id), ("at", context.Get(at))), cancellationToken);
            var console = context.Out;
            console.MarkupLine($"[bold]{Format.Escape(Format.Text(group, "name"))}[/] ({Format.Escape(Format.Text(group, "id"))}, {Format.Escape(Format.Text(group, "method"))}) " +
                               $"at {Format.Instant(Format.Get(impact, "at"))}: score [bold]{Format.Score(Format.Double(impact, "score"))}[/], " +
                               $"trend 24h {Format.Signed(Format.Double(impact, "trend24h"))}, model {Format.Escape(Format.Text(impact, "modelVersion"))}");
            var table = new Table().Border(TableBorder.Rounded).Title("Members");
            table.AddColumn("Entity").AddColumn(new TableColumn("Weight").RightAligned()).AddColumn(new TableColumn("Score").RightAligned())
                .AddColumn(new TableColumn("Share").RightAligned());
            foreach (var member in Format.Array(impact, "members"))
            {
                table.AddRow(
                    Format.Escape(Format.Text(member, "entity")),
                    Format.Number(Format.Double(member, "weight")),
                    Format.Score(Format.Double(member, "score")),
                    Format.Percent(Format.Double(member, "share")));
            }

            console.Write(table);
            return ImpactCli.Ok;
        });

        var putId = new Argument<string>("ID") { Description = "The group id, in the form of an entity id" };
        var name = new Option<string>("--name") { Description = "The display name", Required = true };
        var method = new Option<string>("--method") { Description = "max, weighted-sum or noisy-or", Required = true };
        method.AcceptOnlyFromAmong(Methods);
        var members = new Option<string[]>("--member")
        {
            Description = "A member: ENTITY or ENTITY=WEIGHT with a weight in (0, 1] (repeat for more)",
            Required = true,
        };
        var put = new Command("put", "Create or replace a group") { putId, name, method, members };
        put.SetHandler(environment, async (context, cancellationToken) =>
        {
            var memberNodes = new JsonArray();
            foreach (var member in context.Get(members) ?? [])
            {
                memberNodes.Add(ParseMember(member));
            }

            var body = new JsonObject { ["name"] = context.Get(name), ["method"] = context.Get(method), ["members"] = memberNodes };
            var (status, group) = await context.Api.SendJsonAsync(HttpMethod.Put, ApiClient.Path("api/groups/{0}", context.Get(putId)!), body, cancellationToken);
            context.Out.MarkupLine($"{(status == HttpStatusCode.Created ? "created" : "updated")} group {Format.Escape(Format.Text(group, "id"))} " +
                                   $"({Format.Escape(Format.Text(group, "name"))}, {Format.Escape(Format.Text(group, "method"))}): " +
                                   $"{Format.Escape(string.Join(", ", Format.Array(group, "members").Select(Member)))}");
            return ImpactCli.Ok;
        });

        return new Command("groups", "List, show, create and replace groups (portfolios)") { list, get, put };
    }

    private static string Member(JsonElement member)
    {
        var weight = Format.Double(member, "weight");
        return weight == 1 ? Format.Text(member, "entity") : $"{Format.Text(member, "entity")}={Format.Number(weight)}";
    }

    internal static JsonNode ParseMember(string text)
    {
        var equals = text.IndexOf('=');
        if (equals < 0)
        {
            return text.Length > 0 ? JsonValue.Create(text) : throw new UsageException("--member: an empty entity id");
        }

        var entity = text[..equals];
        var weightText = text[(equals + 1)..];
        if (entity.Length == 0 || !double.TryParse(weightText, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || !(weight > 0 && weight <= 1))
        {
            throw new UsageException($"--member: '{text}' is not ENTITY or ENTITY=WEIGHT with a weight in (0, 1], such as tesla=0.5");
        }

        return new JsonObject { ["entity"] = entity, ["weight"] = weight };
    }
}
