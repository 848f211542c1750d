using System.Data.Common;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;
using ImpactGrains.Storage.Postgres;
using ImpactGrains.Storage.Sqlite;

namespace ImpactGrains.Storage.Tests;

/// <summary>
/// What every entity catalog must do, run against each provider: entities, links and groups created, updated (and
/// reported as such), read back exactly, listed and paged in id order, searched; existence known across stores.
/// </summary>
public abstract class EntityCatalogContract
{
    protected abstract Task<OpenStore<IEntityCatalog>> CreateAsync();

    // Lists joined to text, so that tuples compare them by content.
    private static (string, string, EntityKind, string) Fields(EntityRecord e) => (e.Id, e.Name, e.Kind, string.Join("|", e.Tags));

    private static (string, string, GroupMethod, string) Fields(GroupRecord g) => (g.Id, g.Name, g.Method, string.Join("|", g.Members));

    private static string Joined<T>(params T[] items) => string.Join("|", items);

    [Fact]
    public async Task An_entity_is_created_then_updated_and_reads_back_exactly()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        Assert.True(await catalog.UpsertEntityAsync("acme", "Acme Corp", EntityKind.Company, ["energy", "us"]));
        var created = (await catalog.FindEntityAsync("acme"))!;
        Assert.Equal(("acme", "Acme Corp", EntityKind.Company, Joined("energy", "us")), Fields(created));
        Assert.InRange(created.CreatedAt, before, DateTimeOffset.UtcNow.AddSeconds(5));
        Assert.Equal(created.CreatedAt, created.UpdatedAt);

        await Task.Delay(20);
        Assert.False(await catalog.UpsertEntityAsync("acme", "Acme Inc.", EntityKind.Organization, []));
        var updated = (await open.OpenAnother().FindEntityAsync("acme"))!;
        Assert.Equal(("acme", "Acme Inc.", EntityKind.Organization, ""), Fields(updated));
        Assert.Equal(created.CreatedAt, updated.CreatedAt);
        Assert.True(updated.UpdatedAt > updated.CreatedAt);
        Assert.Null(await catalog.FindEntityAsync("ACME")); // ids are case-sensitive
        Assert.Null(await catalog.FindEntityAsync("none"));
    }

    [Fact]
    public async Task Existence_is_read_from_the_database_until_it_is_known()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        Assert.False(await catalog.ExistsAsync("acme"));
        // Registered through another store (another silo): a negative answer was not kept.
        Assert.True(await open.OpenAnother().UpsertEntityAsync("acme", "Acme", EntityKind.Company, []));
        Assert.True(await catalog.ExistsAsync("acme"));
        Assert.True(await catalog.ExistsAsync("acme"));
        Assert.False(await catalog.ExistsAsync("Acme"));
        Assert.False(await catalog.ExistsAsync(""));

        await catalog.UpsertEntitiesAsync([new EntityInput("bulk", "Bulk", EntityKind.Product, [])]);
        Assert.True(await catalog.ExistsAsync("bulk"));
        Assert.True(await open.OpenAnother().ExistsAsync("bulk"));
    }

    [Fact]
    public async Task A_bulk_upsert_reports_what_it_did_to_each_entity()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        Assert.Empty(await catalog.UpsertEntitiesAsync([]));
        Assert.Equal([UpsertOutcome.Created, UpsertOutcome.Created, UpsertOutcome.Created],
            await catalog.UpsertEntitiesAsync([
                new("a", "A", EntityKind.Company, ["x"]),
                new("b", "B", EntityKind.Person, []),
                new("d", "D", EntityKind.Company, ["x"]),
            ]));

        // The same, another kind, other tags, a new one.
        Assert.Equal([UpsertOutcome.Unchanged, UpsertOutcome.Updated, UpsertOutcome.Updated, UpsertOutcome.Created],
            await catalog.UpsertEntitiesAsync([
                new("a", "A", EntityKind.Company, ["x"]),
                new("b", "B", EntityKind.Organization, []),
                new("d", "D", EntityKind.Company, ["x", "w"]),
                new("c", "C", EntityKind.Product, ["y", "z"]),
            ]));

        Assert.Equal(("b", "B", EntityKind.Organization, ""), Fields((await catalog.FindEntityAsync("b"))!));
        Assert.Equal(("d", "D", EntityKind.Company, Joined("x", "w")), Fields((await catalog.FindEntityAsync("d"))!));
        Assert.Equal(("c", "C", EntityKind.Product, Joined("y", "z")), Fields((await open.OpenAnother().FindEntityAsync("c"))!));
        Assert.Equal(["a", "b", "c", "d"], (await catalog.ListEntitiesAsync()).Select(e => e.Id));
        Assert.Equal([UpsertOutcome.Updated], await catalog.UpsertEntitiesAsync([new("a", "A renamed", EntityKind.Company, ["x"])]));
    }

    [Fact]
    public async Task An_unchanged_bulk_upsert_keeps_the_update_instant()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        await catalog.UpsertEntitiesAsync([new("a", "A", EntityKind.Company, ["x"])]);
        var before = (await catalog.FindEntityAsync("a"))!;
        await Task.Delay(20);
        Assert.Equal([UpsertOutcome.Unchanged], await catalog.UpsertEntitiesAsync([new("a", "A", EntityKind.Company, ["x"])]));
        Assert.Equal(before.UpdatedAt, (await catalog.FindEntityAsync("a"))!.UpdatedAt);
        Assert.Equal([UpsertOutcome.Updated], await catalog.UpsertEntitiesAsync([new("a", "A2", EntityKind.Company, ["x"])]));
        Assert.True((await catalog.FindEntityAsync("a"))!.UpdatedAt > before.UpdatedAt);
    }

    [Fact]
    public async Task An_id_given_twice_in_one_bulk_upsert_ends_in_its_last_form()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        var outcomes = await catalog.UpsertEntitiesAsync([new("a", "First", EntityKind.Company, []), new("a", "Last", EntityKind.Person, ["t"])]);
        Assert.Equal(2, outcomes.Count);
        Assert.Contains(UpsertOutcome.Created, outcomes);
        Assert.Equal(("a", "Last", EntityKind.Person, Joined("t")), Fields((await catalog.FindEntityAsync("a"))!));
        Assert.Single(await catalog.ListEntitiesAsync());
    }

    [Fact]
    public async Task Entities_page_in_id_order_filtered_by_text_and_kind()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        await catalog.UpsertEntitiesAsync([
            new("tesla", "Tesla, Inc.", EntityKind.Company, []),
            new("elon-musk", "Elon Musk", EntityKind.Person, []),
            new("spacex", "SpaceX", EntityKind.Company, []),
            new("model-y", "Model Y", EntityKind.Product, []),
            new("odd_one", "100% Odd", EntityKind.Organization, []),
            new("oddxone", "Plain", EntityKind.Organization, []),
        ]);

        Assert.Equal(["elon-musk", "model-y", "odd_one", "oddxone", "spacex", "tesla"], (await catalog.ListEntitiesAsync()).Select(e => e.Id));
        Assert.Equal(["elon-musk", "model-y"], (await catalog.PageEntitiesAsync(null, 2, null, null)).Select(e => e.Id));
        Assert.Equal(["odd_one", "oddxone"], (await catalog.PageEntitiesAsync("model-y", 2, null, null)).Select(e => e.Id));
        Assert.Empty(await catalog.PageEntitiesAsync("tesla", 10, null, null));

        // Case-insensitive, in the id or the name.
        Assert.Equal(["spacex", "tesla"], (await catalog.PageEntitiesAsync(null, 10, "", EntityKind.Company)).Select(e => e.Id));
        Assert.Equal(["model-y"], (await catalog.PageEntitiesAsync(null, 10, "L y", null)).Select(e => e.Id));
        Assert.Equal(["elon-musk", "model-y", "odd_one"], (await catalog.PageEntitiesAsync(null, 3, "E", null)).Select(e => e.Id));
        Assert.Equal(["spacex"], (await catalog.PageEntitiesAsync(null, 10, "SPACE", null)).Select(e => e.Id));
        Assert.Equal(["elon-musk"], (await catalog.PageEntitiesAsync(null, 10, "musk", EntityKind.Person)).Select(e => e.Id));
        Assert.Empty(await catalog.PageEntitiesAsync(null, 10, "musk", EntityKind.Company));
        Assert.Equal(["tesla"], (await catalog.PageEntitiesAsync(null, 10, "inc.", null)).Select(e => e.Id));

        // The query's own wildcards match only themselves.
        Assert.Equal(["odd_one"], (await catalog.PageEntitiesAsync(null, 10, "_", null)).Select(e => e.Id));
        Assert.Equal(["odd_one"], (await catalog.PageEntitiesAsync(null, 10, "100%", null)).Select(e => e.Id));
        Assert.Empty(await catalog.PageEntitiesAsync(null, 10, "%x", null));
        Assert.Equal(["spacex"], (await catalog.PageEntitiesAsync("odd_one", 10, "x", EntityKind.Company)).Select(e => e.Id));
        Assert.Equal(["Elon Musk"], (await catalog.PageEntitiesAsync(null, 1, null, EntityKind.Person)).Select(e => e.Name));
    }

    [Fact]
    public async Task Links_are_created_updated_listed_from_both_ends_and_deleted()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        await catalog.UpsertEntitiesAsync([new("a", "A", EntityKind.Company, []), new("b", "B", EntityKind.Company, []), new("c", "C", EntityKind.Company, [])]);

        Assert.True(await catalog.UpsertLinkAsync(new LinkRecord("a", "b", 0.5, "supplier")));
        Assert.False(await catalog.UpsertLinkAsync(new LinkRecord("a", "b", 0.25, "owner")));
        Assert.True(await catalog.UpsertLinkAsync(new LinkRecord("c", "a", 1, "parent")));
        Assert.True(await catalog.UpsertLinkAsync(new LinkRecord("b", "a", 0.1, "supplier")));

        Assert.Equal(
            [new LinkRecord("a", "b", 0.25, "owner"), new LinkRecord("b", "a", 0.1, "supplier"), new LinkRecord("c", "a", 1, "parent")],
            await open.OpenAnother().LinksOfAsync("a"));
        Assert.Equal([new LinkRecord("c", "a", 1, "parent")], await catalog.LinksOfAsync("c"));
        Assert.Empty(await catalog.LinksOfAsync("none"));

        Assert.True(await catalog.DeleteLinkAsync("a", "b"));
        Assert.False(await catalog.DeleteLinkAsync("a", "b"));
        Assert.False(await catalog.DeleteLinkAsync("c", "b"));
        Assert.Equal([new LinkRecord("b", "a", 0.1, "supplier")], await catalog.LinksOfAsync("b"));
    }

    [Fact]
    public async Task A_bulk_link_upsert_reports_what_it_did_to_each_link()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        await catalog.UpsertEntitiesAsync([new("a", "A", EntityKind.Company, []), new("b", "B", EntityKind.Company, []), new("c", "C", EntityKind.Company, [])]);
        Assert.Empty(await catalog.UpsertLinksAsync([]));
        Assert.Equal([UpsertOutcome.Created, UpsertOutcome.Created, UpsertOutcome.Created],
            await catalog.UpsertLinksAsync([new("a", "b", 0.5, "supplier"), new("b", "c", 0.5, "supplier"), new("a", "c", 0.5, "supplier")]));

        // The same, another weight, another relation, a new one.
        Assert.Equal([UpsertOutcome.Unchanged, UpsertOutcome.Updated, UpsertOutcome.Updated, UpsertOutcome.Created],
            await catalog.UpsertLinksAsync([
                new("a", "b", 0.5, "supplier"),
                new("b", "c", 0.75, "supplier"),
                new("a", "c", 0.5, "owner"),
                new("c", "a", 0.3, "parent"),
            ]));
        Assert.Equal(
            [new LinkRecord("a", "b", 0.5, "supplier"), new LinkRecord("a", "c", 0.5, "owner"), new LinkRecord("c", "a", 0.3, "parent")],
            await catalog.LinksOfAsync("a"));
        Assert.Equal(
            [new LinkRecord("a", "c", 0.5, "owner"), new LinkRecord("b", "c", 0.75, "supplier"), new LinkRecord("c", "a", 0.3, "parent")],
            await open.OpenAnother().LinksOfAsync("c"));
    }

    [Fact]
    public async Task A_link_needs_both_of_its_entities()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        await catalog.UpsertEntityAsync("a", "A", EntityKind.Company, []);
        await Assert.ThrowsAnyAsync<DbException>(() => catalog.UpsertLinkAsync(new LinkRecord("a", "none", 1, "x")));
        await Assert.ThrowsAnyAsync<DbException>(() => catalog.UpsertLinksAsync([new LinkRecord("none", "a", 1, "x")]));
        Assert.Empty(await catalog.LinksOfAsync("a"));
    }

    [Fact]
    public async Task Groups_are_created_replaced_found_and_listed_in_pages()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        GroupMember[] members = [new("tesla", 1), new("spacex", 0.5), new("x-corp", 0.125)];
        Assert.True(await catalog.UpsertGroupAsync("musk", "Musk companies", GroupMethod.Max, members));
        var created = (await catalog.FindGroupAsync("musk"))!;
        Assert.Equal(("musk", "Musk companies", GroupMethod.Max, Joined(members)), Fields(created));
        Assert.Equal(created.CreatedAt, created.UpdatedAt);

        await Task.Delay(20);
        Assert.False(await catalog.UpsertGroupAsync("musk", "Musk", GroupMethod.WeightedSum, [new("tesla", 0.75)]));
        var replaced = (await open.OpenAnother().FindGroupAsync("musk"))!;
        Assert.Equal(("musk", "Musk", GroupMethod.WeightedSum, Joined(new GroupMember("tesla", 0.75))), Fields(replaced));
        Assert.Equal(created.CreatedAt, replaced.CreatedAt);
        Assert.True(replaced.UpdatedAt > replaced.CreatedAt);
        Assert.Null(await catalog.FindGroupAsync("none"));

        Assert.True(await catalog.UpsertGroupAsync("empty", "Nobody", GroupMethod.Max, []));
        Assert.Empty((await catalog.FindGroupAsync("empty"))!.Members);
        Assert.True(await catalog.UpsertGroupAsync("alpha", "Alpha", GroupMethod.Max, [new("a", 1)]));
        Assert.Equal(["alpha", "empty", "musk"], (await catalog.ListGroupsAsync()).Select(g => g.Id));
        Assert.Equal(["alpha", "empty"], (await catalog.ListGroupsAsync(limit: 2)).Select(g => g.Id));
        Assert.Equal(["musk"], (await catalog.ListGroupsAsync(after: "empty", limit: 2)).Select(g => g.Id));
        Assert.Equal(["empty", "musk"], (await catalog.ListGroupsAsync(after: "alpha")).Select(g => g.Id));
        Assert.Empty(await catalog.ListGroupsAsync(after: "musk"));
        Assert.Empty(await catalog.ListGroupsAsync(limit: 0));
    }
}

public sealed class SqliteEntityCatalogTests : EntityCatalogContract
{
    protected override Task<OpenStore<IEntityCatalog>> CreateAsync() =>
        ProviderDatabases.SqliteAsync<IEntityCatalog>(database => new SqliteEntityCatalog(database));
}

public sealed class PostgresEntityCatalogTests(PostgresStorageFixture fixture) : EntityCatalogContract, IClassFixture<PostgresStorageFixture>
{
    protected override Task<OpenStore<IEntityCatalog>> CreateAsync() =>
        ProviderDatabases.PostgresAsync<IEntityCatalog>(fixture.Server, database => new PostgresEntityCatalog(database));
}
