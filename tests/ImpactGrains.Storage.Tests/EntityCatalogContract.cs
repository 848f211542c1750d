using System.Data.Common;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;
using ImpactGrains.Storage.Postgres;
using ImpactGrains.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace ImpactGrains.Storage.Tests;

/// <summary>
/// What every entity catalog must do, run against each provider: entities, links and groups created, updated (and
/// reported as such), read back exactly, listed and paged in id order, searched; existence known across stores.
/// </summary>
public abstract class EntityCatalogContract
{
    protected abstract Task<OpenStore<IEntityCatalog>> CreateAsync();

    /// <summary>A catalog migrated only up to the migration before its search index, seeded, then migrated to now.</summary>
    protected abstract Task<OpenStore<IEntityCatalog>> CreateFromBeforeSearchIndexAsync(IReadOnlyList<EntityInput> entities);

    private static async Task<List<string>> SearchAsync(IEntityCatalog catalog, string query, EntityKind? kind = null, string? after = null, int limit = 100) =>
        (await catalog.PageEntitiesAsync(after, limit, query, kind)).Select(e => e.Id).ToList();

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
    public async Task A_search_finds_a_substring_of_the_id_or_the_name_whatever_its_ASCII_case()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        await catalog.UpsertEntitiesAsync([
            new("acme-rockets", "Acme Rocket Works", EntityKind.Company, []),
            new("wile-e-coyote", "Wile E. Coyote", EntityKind.Person, []),
            new("roadrunner", "Road Runner", EntityKind.Person, []),
            new("x1", "Xylophone Rockers", EntityKind.Product, []),
        ]);

        Assert.Equal(["acme-rockets", "x1"], await SearchAsync(catalog, "rock"));
        Assert.Equal(["acme-rockets", "x1"], await SearchAsync(catalog, "ROCK"));
        Assert.Equal(["acme-rockets"], await SearchAsync(catalog, "ME-RO"));
        Assert.Equal(["wile-e-coyote"], await SearchAsync(catalog, "e. coy"));
        Assert.Equal(["roadrunner"], await SearchAsync(catalog, "dRuN"));
        Assert.Equal(["roadrunner"], await SearchAsync(catalog, "d Ru"));
        Assert.Equal(["x1"], await SearchAsync(catalog, "Xylophone Rockers"));
        Assert.Equal(["wile-e-coyote"], await SearchAsync(catalog, "coy", EntityKind.Person));
        Assert.Empty(await SearchAsync(catalog, "coy", EntityKind.Company));
        Assert.Equal(["x1"], await SearchAsync(catalog, "rock", after: "acme-rockets"));
        Assert.Empty(await SearchAsync(catalog, "rocketsx"));
        Assert.Empty(await SearchAsync(catalog, "works acme"));

        // One or two characters: too short for a trigram, found all the same.
        Assert.Equal(["acme-rockets", "wile-e-coyote", "x1"], await SearchAsync(catalog, "c"));
        Assert.Equal(["x1"], await SearchAsync(catalog, "X1"));
        Assert.Equal(["acme-rockets", "roadrunner", "wile-e-coyote", "x1"], await SearchAsync(catalog, "o"));
        Assert.Equal(["acme-rockets", "wile-e-coyote"], await SearchAsync(catalog, "E-"));
    }

    [Fact]
    public async Task A_renamed_entity_is_found_by_its_new_name_only()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        await catalog.UpsertEntityAsync("e1", "Old Name Holdings", EntityKind.Company, []);
        await catalog.UpsertEntitiesAsync([new("e2", "Quiet Partners", EntityKind.Company, [])]);
        Assert.Equal(["e1"], await SearchAsync(catalog, "old name"));

        await catalog.UpsertEntityAsync("e1", "Brand New Holdings", EntityKind.Company, ["renamed"]);
        Assert.Empty(await SearchAsync(catalog, "old name"));
        Assert.Equal(["e1"], await SearchAsync(catalog, "brand new"));
        Assert.Equal(["e1"], await SearchAsync(catalog, "holdings"));

        // A bulk rename, and a bulk write that changes only the tags: the index follows the one and keeps the other.
        await catalog.UpsertEntitiesAsync([new("e1", "Brand New Holdings", EntityKind.Company, ["retagged"]), new("e2", "Loud Partners", EntityKind.Organization, [])]);
        Assert.Empty(await SearchAsync(catalog, "quiet"));
        Assert.Equal(["e2"], await SearchAsync(catalog, "loud"));
        Assert.Equal(["e1"], await SearchAsync(catalog, "brand new"));
        Assert.Equal(["e2"], await SearchAsync(catalog, "ners"));
        Assert.Equal(["e1"], await SearchAsync(catalog, "ings"));

        // Created and renamed in one bulk write: found by the last name only.
        await catalog.UpsertEntitiesAsync([new("e3", "First Draft", EntityKind.Product, []), new("e3", "Final Copy", EntityKind.Product, [])]);
        Assert.Empty(await SearchAsync(catalog, "draft"));
        Assert.Equal(["e3"], await SearchAsync(catalog, "final cop"));

        // Renamed back: the old name is found again, the other not.
        await catalog.UpsertEntityAsync("e1", "Old Name Holdings", EntityKind.Company, []);
        Assert.Equal(["e1"], await SearchAsync(catalog, "old name"));
        Assert.Empty(await SearchAsync(catalog, "brand"));
    }

    [Fact]
    public async Task A_search_reads_wildcards_quotes_and_full_text_syntax_as_plain_text()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        string[] names =
        [
            "100% Odd", "Under_score", "Back\\slash", "Say \"hi\" now", "Star*Corp", "Rock AND Roll", "Near(by) Ltd", "Minus-One", "Colon: Two", "Caret^Three",
            "1000 Odds", "Underxscore", "Backxslash", "Say hi now", "StarxCorp", "Rock or Roll", "Nearby Ltd", "Minus One", "Colon Two", "Caret Three",
        ];
        await catalog.UpsertEntitiesAsync(names.Select((n, i) => new EntityInput($"n{i:D2}", n, EntityKind.Company, [])).ToList());
        string Id(string name) => $"n{Array.IndexOf(names, name):D2}";

        Assert.Equal([Id("100% Odd")], await SearchAsync(catalog, "00% o"));
        Assert.Equal([Id("100% Odd")], await SearchAsync(catalog, "0%"));
        Assert.Equal([Id("Under_score")], await SearchAsync(catalog, "r_s"));
        Assert.Equal([Id("Back\\slash")], await SearchAsync(catalog, "k\\s"));
        Assert.Equal([Id("Back\\slash")], await SearchAsync(catalog, "\\"));
        Assert.Equal([Id("Say \"hi\" now")], await SearchAsync(catalog, "\"hi\""));
        Assert.Equal([Id("Say \"hi\" now")], await SearchAsync(catalog, "y \"h"));
        Assert.Equal([Id("Say \"hi\" now")], await SearchAsync(catalog, "\""));
        Assert.Equal([Id("Star*Corp")], await SearchAsync(catalog, "r*c"));
        Assert.Equal([Id("Star*Corp")], await SearchAsync(catalog, "Star*"));
        Assert.Equal([Id("Rock AND Roll")], await SearchAsync(catalog, "k AND R"));
        Assert.Equal([Id("Rock AND Roll")], await SearchAsync(catalog, "and"));
        Assert.Equal([Id("Near(by) Ltd")], await SearchAsync(catalog, "NEAR("));
        Assert.Equal([Id("Near(by) Ltd")], await SearchAsync(catalog, "NEAR(by"));
        Assert.Equal([Id("Minus-One")], await SearchAsync(catalog, "s-o"));
        Assert.Equal([Id("Minus-One")], await SearchAsync(catalog, "-one"));
        Assert.Equal([Id("Colon: Two")], await SearchAsync(catalog, "n: t"));
        Assert.Equal([Id("Colon: Two")], await SearchAsync(catalog, "colon:"));
        Assert.Equal([Id("Caret^Three")], await SearchAsync(catalog, "^th"));
        Assert.Equal([Id("Caret^Three")], await SearchAsync(catalog, "t^"));
        Assert.Empty(await SearchAsync(catalog, "\"\""));
        Assert.Empty(await SearchAsync(catalog, "%%%"));
        Assert.Empty(await SearchAsync(catalog, "___"));
        Assert.Empty(await SearchAsync(catalog, "* OR *"));
    }

    [Fact]
    public async Task Paging_through_a_search_returns_every_match_once_in_id_order()
    {
        await using var open = await CreateAsync();
        var catalog = open.Store;
        // More hits than any index is read for before a search takes its text for a common one (CatalogSearch): the
        // common "ember", the rarer "ber-01", and the short "9" each page by their own path.
        var entities = Enumerable.Range(0, 1500)
            .Select(i => new EntityInput($"member-{(i * 7919) % 1500:D4}", $"Member {i} of {(i % 3 == 0 ? "Fizz" : "Buzz")}", i % 2 == 0 ? EntityKind.Person : EntityKind.Company, []))
            .ToList();
        await catalog.UpsertEntitiesAsync(entities);

        foreach (var (query, kind, limit) in new (string, EntityKind?, int)[] { ("ember", null, 7), ("EMBER", EntityKind.Person, 250), ("ber-01", null, 7), ("OF FIZZ", EntityKind.Company, 13), ("9", null, 101), ("izz", null, 1000) })
        {
            var expected = entities
                .Where(e => e.Id.Contains(query, StringComparison.OrdinalIgnoreCase) || e.Name.Contains(query, StringComparison.OrdinalIgnoreCase))
                .Where(e => kind is null || e.Kind == kind)
                .Select(e => e.Id)
                .Order(StringComparer.Ordinal)
                .ToList();
            var found = new List<string>();
            string? after = null;
            while (true)
            {
                var page = await SearchAsync(catalog, query, kind, after, limit);
                found.AddRange(page);
                if (page.Count < limit)
                {
                    break;
                }

                after = page[^1];
            }

            Assert.True(expected.Count > 0, query);
            Assert.Equal(expected, found);
        }
    }

    [Fact]
    public async Task Entities_registered_before_the_search_index_are_found_by_it()
    {
        await using var open = await CreateFromBeforeSearchIndexAsync([
            new("acme-rockets", "Acme Rocket Works", EntityKind.Company, []),
            new("roadrunner", "Road Runner", EntityKind.Person, []),
        ]);
        var catalog = open.Store;

        Assert.Equal(["acme-rockets"], await SearchAsync(catalog, "ROCKET"));
        Assert.Equal(["roadrunner"], await SearchAsync(catalog, "ad ru"));
        await catalog.UpsertEntityAsync("roadrunner", "Fast Bird", EntityKind.Person, []);
        await catalog.UpsertEntityAsync("coyote", "Wile E. Coyote", EntityKind.Person, []);
        Assert.Empty(await SearchAsync(catalog, "d run"));
        Assert.Equal(["roadrunner"], await SearchAsync(catalog, "fast b"));
        Assert.Equal(["coyote"], await SearchAsync(catalog, "wile"));
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

    protected override async Task<OpenStore<IEntityCatalog>> CreateFromBeforeSearchIndexAsync(IReadOnlyList<EntityInput> entities)
    {
        var directory = Directory.CreateTempSubdirectory("impactgrains-contract-").FullName;
        var database = new SqliteDatabase(directory);
        database.Migrate(through: "0008-event-time-zones.sql");
        // As the catalog wrote them then: today's writes the search index too, which that schema does not have.
        await using (var connection = new SqliteConnection(database.LogConnectionString))
        {
            await connection.OpenAsync();
            foreach (var e in entities)
            {
                await using var insert = connection.CreateCommand();
                insert.CommandText = "INSERT INTO entities (id, name, kind, tags, created_at, updated_at) VALUES ($id, $name, $kind, '[]', 0, 0)";
                insert.Parameters.AddWithValue("$id", e.Id);
                insert.Parameters.AddWithValue("$name", e.Name);
                insert.Parameters.AddWithValue("$kind", e.Kind.WireName());
                await insert.ExecuteNonQueryAsync();
            }
        }

        SqliteConnection.ClearAllPools();
        database.Migrate();
        return new OpenStore<IEntityCatalog>(new SqliteEntityCatalog(database), () => new SqliteEntityCatalog(database), () =>
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
            return ValueTask.CompletedTask;
        });
    }

    [Fact]
    public async Task Beyond_ASCII_a_search_matches_case_exactly_as_SQLite_LIKE_does()
    {
        // The trigram index folds the case of every letter, LIKE only of ASCII ones; LIKE has the last word, as before
        // the index (docs/api.md).
        await using var open = await CreateAsync();
        await open.Store.UpsertEntitiesAsync([new("etoile", "Étoile Ölwerke", EntityKind.Company, [])]);
        Assert.Equal(["etoile"], (await open.Store.PageEntitiesAsync(null, 10, "ÉTOILE", null)).Select(e => e.Id));
        Assert.Equal(["etoile"], (await open.Store.PageEntitiesAsync(null, 10, "e ÖLW", null)).Select(e => e.Id));
        Assert.Empty(await open.Store.PageEntitiesAsync(null, 10, "étoile", null));
        Assert.Empty(await open.Store.PageEntitiesAsync(null, 10, "ölwerke", null));
    }
}

public sealed class PostgresEntityCatalogTests(PostgresStorageFixture fixture) : EntityCatalogContract, IClassFixture<PostgresStorageFixture>
{
    protected override Task<OpenStore<IEntityCatalog>> CreateAsync() =>
        ProviderDatabases.PostgresAsync<IEntityCatalog>(fixture.Server, database => new PostgresEntityCatalog(database));

    protected override async Task<OpenStore<IEntityCatalog>> CreateFromBeforeSearchIndexAsync(IReadOnlyList<EntityInput> entities)
    {
        var database = new PostgresDatabase(await fixture.Server.CreateDatabaseAsync());
        await database.MigrateAsync(through: "0007-timeline-chunks.sql");
        await new PostgresEntityCatalog(database).UpsertEntitiesAsync(entities);
        await database.MigrateAsync();
        return new OpenStore<IEntityCatalog>(new PostgresEntityCatalog(database), () => new PostgresEntityCatalog(database), () => database.DisposeAsync());
    }
}
