using System.CommandLine;
using System.Globalization;
using ImpactGrains.Client;
using Spectre.Console;

namespace ImpactGrains.Cli.Commands;

/// <summary><c>impact entities|links|groups</c>: the administration of entities, links and groups.</summary>
internal static class AdminCommands
{
    public static readonly string[] Methods = ["max", "weighted-sum", "noisy-or"];

    public static Command BuildEntities(CliEnvironment environment)
    {
        var search = new Option<string?>("--search") { Description = "Only entities whose id or name contains this text" };
        var listKind = new Option<string?>("--kind") { Description = "Only entities of this kind" };
        listKind.AcceptOnlyFromAmong(TopCommand.Kinds);
        var listLimit = new Option<int?>("--limit") { Description = "At most this many entities (default: all, fetched page by page)" };
        var list = new Command("list", "Entities in id order with their current scores") { search, listKind, listLimit };
        list.SetHandler(environment, async (context, cancellationToken) =>
        {
            var limit = context.Get(listLimit);
            if (limit is < 1)
            {
                throw new UsageException("--limit: must be at least 1");
            }

            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn("Id").AddColumn("Name").AddColumn("Kind").AddColumn(new TableColumn("Score").RightAligned());
            await foreach (var entity in context.Api.EnumerateEntitiesAsync(context.Get(search), context.Get(listKind),
                               pageSize: limit is { } l ? Math.Min(l, 1000) : null, cancellationToken: cancellationToken))
            {
                table.AddRow(Format.Escape(entity.Id), Format.Escape(entity.Name), Format.Escape(entity.Kind), Format.Score(entity.Score));
                if (table.Rows.Count == limit)
                {
                    break;
                }
            }

            context.Out.Write(table);
            context.Out.MarkupLine($"{Format.Count(table.Rows.Count)} entit{(table.Rows.Count == 1 ? "y" : "ies")}");
            return ImpactCli.Ok;
        });

        var entitiesFile = new Argument<string>("FILE") { Description = "NDJSON, one {\"id\",\"name\",\"kind\",\"tags\"} per line" };
        var import = new Command("import", "Create or update entities in bulk from an NDJSON file") { entitiesFile };
        import.SetHandler(environment, (context, cancellationToken) =>
            BulkImport.RunAsync<BulkEntityRequest>(context, context.Get(entitiesFile)!, "entity", "entities", context.Api.PutEntitiesAsync, cancellationToken));

        var getId = new Argument<string>("ID") { Description = "The entity id" };
        var get = new Command("get", "An entity with its links") { getId };
        get.SetHandler(environment, async (context, cancellationToken) =>
        {
            WriteEntity(context.Out, await context.Api.GetEntityAsync(context.Get(getId)!, cancellationToken));
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
            var (entity, created) = await context.Api.PutEntityAsync(context.Get(putId)!,
                new EntityRequest(context.Get(name)!, context.Get(kind)!, context.Get(tags) ?? []), cancellationToken);
            context.Out.MarkupLine($"{(created ? "created" : "updated")} entity {Format.Escape(entity.Id)} ({Format.Escape(entity.Name)}, {Format.Escape(entity.Kind)})");
            return ImpactCli.Ok;
        });

        return new Command("entities", "List, show, create, update and import entities") { list, get, put, import };
    }

    private static void WriteEntity(IAnsiConsole console, Entity entity)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Entity");
        table.AddColumn("Field").AddColumn("Value");
        table.AddRow("Id", Format.Escape(entity.Id));
        table.AddRow("Name", Format.Escape(entity.Name));
        table.AddRow("Kind", Format.Escape(entity.Kind));
        table.AddRow("Tags", Format.Escape(string.Join(", ", entity.Tags)));
        table.AddRow("Created", Format.Instant(entity.CreatedAt));
        table.AddRow("Updated", Format.Instant(entity.UpdatedAt));
        console.Write(table);

        var links = entity.Links;
        if (links.Count == 0)
        {
            console.MarkupLine("No links.");
            return;
        }

        var linkTable = new Table().Border(TableBorder.Rounded).Title("Links");
        linkTable.AddColumn("From").AddColumn("To").AddColumn(new TableColumn("Weight").RightAligned()).AddColumn("Relation");
        foreach (var link in links)
        {
            linkTable.AddRow(Format.Escape(link.From), Format.Escape(link.To), Format.Number(link.Weight), Format.Escape(link.Relation));
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

            var (link, created) = await context.Api.PutLinkAsync(new LinkRequest(context.Get(from)!, context.Get(to)!, w, context.Get(relation)!), cancellationToken);
            context.Out.MarkupLine($"{(created ? "created" : "updated")} link {Format.Escape(link.From)} → {Format.Escape(link.To)} " +
                                   $"(weight {Format.Number(link.Weight)}, {Format.Escape(link.Relation)})");
            return ImpactCli.Ok;
        });

        var deleteFrom = new Option<string>("--from") { Description = "The link's source entity", Required = true };
        var deleteTo = new Option<string>("--to") { Description = "The link's target entity", Required = true };
        var delete = new Command("delete", "Remove a link") { deleteFrom, deleteTo };
        delete.SetHandler(environment, async (context, cancellationToken) =>
        {
            var f = context.Get(deleteFrom)!;
            var t = context.Get(deleteTo)!;
            await context.Api.DeleteLinkAsync(f, t, cancellationToken);
            context.Out.MarkupLine($"deleted link {Format.Escape(f)} → {Format.Escape(t)}");
            return ImpactCli.Ok;
        });

        var linksFile = new Argument<string>("FILE") { Description = "NDJSON, one {\"from\",\"to\",\"weight\",\"relation\"} per line" };
        var import = new Command("import", "Create or update links in bulk from an NDJSON file") { linksFile };
        import.SetHandler(environment, (context, cancellationToken) =>
            BulkImport.RunAsync<LinkRequest>(context, context.Get(linksFile)!, "link", "links", context.Api.PutLinksAsync, cancellationToken));

        return new Command("links", "Create, update, import and remove links between entities") { put, delete, import };
    }

    public static Command BuildGroups(CliEnvironment environment)
    {
        var list = new Command("list", "Every group's definition");
        list.SetHandler(environment, async (context, cancellationToken) =>
        {
            var groups = await context.Api.ListGroupsAsync(cancellationToken);
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn("Id").AddColumn("Name").AddColumn("Method").AddColumn("Members");
            foreach (var group in groups)
            {
                table.AddRow(Format.Escape(group.Id), Format.Escape(group.Name), Format.Escape(group.Method), Format.Escape(string.Join(", ", group.Members.Select(Member))));
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
            var group = await context.Api.GetGroupAsync(id, cancellationToken);
            var when = context.Get(at);
            // An instant given with --at goes to the server as typed: the server judges it.
            var impact = when is null
                ? await context.Api.GetGroupImpactAsync(id, cancellationToken: cancellationToken)
                : await context.Api.GetAsync<GroupImpactReport>(CommandContext.Route("api/groups/{0}/impact", id, ("at", when)), cancellationToken);
            var console = context.Out;
            console.MarkupLine($"[bold]{Format.Escape(group.Name)}[/] ({Format.Escape(group.Id)}, {Format.Escape(group.Method)}) " +
                               $"at {Format.Instant(impact.At)}: score [bold]{Format.Score(impact.Score)}[/], " +
                               $"trend 24h {Format.Signed(impact.Trend24h)}, model {Format.Escape(impact.ModelVersion)}");
            var table = new Table().Border(TableBorder.Rounded).Title("Members");
            table.AddColumn("Entity").AddColumn(new TableColumn("Weight").RightAligned()).AddColumn(new TableColumn("Score").RightAligned())
                .AddColumn(new TableColumn("Share").RightAligned());
            foreach (var member in impact.Members)
            {
                table.AddRow(Format.Escape(member.Entity), Format.Number(member.Weight), Format.Score(member.Score), Format.Percent(member.Share));
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
            var request = new GroupRequest(context.Get(name)!, context.Get(method)!, (context.Get(members) ?? []).Select(ParseMember).ToList());
            var (group, created) = await context.Api.PutGroupAsync(context.Get(putId)!, request, cancellationToken);
            context.Out.MarkupLine($"{(created ? "created" : "updated")} group {Format.Escape(group.Id)} ({Format.Escape(group.Name)}, {Format.Escape(group.Method)}): " +
                                   $"{Format.Escape(string.Join(", ", group.Members.Select(Member)))}");
            return ImpactCli.Ok;
        });

        return new Command("groups", "List, show, create and replace groups (portfolios)") { list, get, put };
    }

    private static string Member(GroupMember member) =>
        member.Weight == 1 ? member.Entity : $"{member.Entity}={Format.Number(member.Weight)}";

    internal static GroupMember ParseMember(string text)
    {
        var equals = text.IndexOf('=');
        if (equals < 0)
        {
            return text.Length > 0 ? new GroupMember(text) : throw new UsageException("--member: an empty entity id");
        }

        var entity = text[..equals];
        var weightText = text[(equals + 1)..];
        if (entity.Length == 0 || !double.TryParse(weightText, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || !(weight > 0 && weight <= 1))
        {
            throw new UsageException($"--member: '{text}' is not ENTITY or ENTITY=WEIGHT with a weight in (0, 1], such as tesla=0.5");
        }

        return new GroupMember(entity, weight);
    }
}
