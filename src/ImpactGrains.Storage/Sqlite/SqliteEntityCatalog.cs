using System.Text.Json;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;
using Microsoft.Data.Sqlite;
using static ImpactGrains.Storage.CatalogRows<ImpactGrains.Storage.TicksColumn>;

namespace ImpactGrains.Storage.Sqlite;

/// <summary>The entity catalog of the embedded profile, in the same file as the event log.</summary>
public sealed class SqliteEntityCatalog(SqliteDatabase database) : EntityCatalogBase, IEntityCatalog
{
    public async Task<bool> UpsertEntityAsync(string id, string name, EntityKind kind, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var now = DateTimeOffset.UtcNow.UtcTicks;
        command.CommandText = """
            INSERT INTO entities (id, name, kind, tags, created_at, updated_at) VALUES ($id, $name, $kind, $tags, $now, $now)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, tags = excluded.tags, updated_at = excluded.updated_at
            RETURNING created_at = updated_at
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$kind", kind.WireName());
        command.Parameters.AddWithValue("$tags", JsonSerializer.Serialize(tags));
        command.Parameters.AddWithValue("$now", now);
        var created = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken)) == 1;
        await IndexForSearchAsync(transaction, created ? [id] : [], created ? [] : [id], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Known.Add(id);
        return created;
    }

    private protected override async Task<bool> EntityRowExistsAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM entities WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public async Task<IReadOnlyList<UpsertOutcome>> UpsertEntitiesAsync(IReadOnlyList<EntityInput> entities, CancellationToken cancellationToken = default)
    {
        var outcomes = new UpsertOutcome[entities.Count];
        if (entities.Count == 0)
        {
            return outcomes;
        }

        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // Only a real change is written (and reported as one); RETURNING gives no row when nothing was.
        command.CommandText = """
            INSERT INTO entities (id, name, kind, tags, created_at, updated_at) VALUES ($id, $name, $kind, $tags, $now, $now)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, tags = excluded.tags, updated_at = excluded.updated_at
            WHERE name <> excluded.name OR kind <> excluded.kind OR tags <> excluded.tags
            RETURNING created_at = updated_at
            """;
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var name = command.Parameters.Add("$name", SqliteType.Text);
        var kind = command.Parameters.Add("$kind", SqliteType.Text);
        var tags = command.Parameters.Add("$tags", SqliteType.Text);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.UtcTicks);
        command.Prepare();
        for (var i = 0; i < entities.Count; i++)
        {
            var e = entities[i];
            (id.Value, name.Value, kind.Value, tags.Value) = (e.Id, e.Name, e.Kind.WireName(), JsonSerializer.Serialize(e.Tags));
            var result = await command.ExecuteScalarAsync(cancellationToken);
            outcomes[i] = result is null ? UpsertOutcome.Unchanged : Convert.ToInt64(result) == 1 ? UpsertOutcome.Created : UpsertOutcome.Updated;
        }

        var created = entities.Where((_, i) => outcomes[i] == UpsertOutcome.Created).Select(e => e.Id).ToList();
        var updated = entities.Where((_, i) => outcomes[i] == UpsertOutcome.Updated).Select(e => e.Id).ToList();
        await IndexForSearchAsync(transaction, created, updated, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        foreach (var e in entities)
        {
            Known.Add(e.Id);
        }

        return outcomes;
    }

    /// <summary>
    /// Brings the search index (migration 0009) in step with the entities just <paramref name="created"/> and
    /// <paramref name="updated"/> in <paramref name="transaction"/>: each is (re)indexed under its name as stored now. An
    /// update whose name did not change is reindexed all the same, which costs little and needs no old name.
    /// </summary>
    private static async Task IndexForSearchAsync(SqliteTransaction transaction, IReadOnlyList<string> created, IReadOnlyList<string> updated, CancellationToken cancellationToken)
    {
        if (created.Count == 0 && updated.Count == 0)
        {
            return;
        }

        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        // A batch in one statement each: FTS5 writes its pending rows to disk at the end of every statement's savepoint.
        command.CommandText = """
            INSERT INTO entity_search_rows (id)
            SELECT value FROM json_each($created) UNION SELECT value FROM json_each($updated) WHERE true
            ON CONFLICT (id) DO NOTHING;
            DELETE FROM entity_search WHERE rowid IN (
                SELECT row FROM entity_search_rows WHERE id IN (SELECT value FROM json_each($updated) EXCEPT SELECT value FROM json_each($created)));
            INSERT INTO entity_search (rowid, id, name)
            SELECT r.row, e.id, e.name FROM entity_search_rows r JOIN entities e ON e.id = r.id
            WHERE r.id IN (SELECT value FROM json_each($created) UNION SELECT value FROM json_each($updated));
            """;
        command.Parameters.AddWithValue("$created", JsonSerializer.Serialize(created));
        command.Parameters.AddWithValue("$updated", JsonSerializer.Serialize(updated));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<EntityRecord>> PageEntitiesAsync(string? after, int limit, string? query, EntityKind? kind, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        var from = "entities e";
        var where = new List<string> { "e.id > $after" };
        command.Parameters.AddWithValue("$after", after ?? "");
        if (!string.IsNullOrEmpty(query))
        {
            // LIKE is case-insensitive for ASCII in SQLite; the pattern's own wildcards are escaped. It decides the match
            // on either path: the trigram index folds all of Unicode's case, so it finds a superset to narrow down.
            where.Add("(e.id LIKE $pattern ESCAPE '\\' OR e.name LIKE $pattern ESCAPE '\\')");
            command.Parameters.AddWithValue("$pattern", CatalogSearch.ContainsPattern(query));
            var phrase = CatalogSearch.TrigramPhrase(query);
            if (CatalogSearch.HasTrigrams(query) && await FewHitsAsync(connection, phrase, CatalogSearch.IndexedHitsLimit(limit), cancellationToken))
            {
                // CROSS JOIN keeps the index first: the planner must not walk entities in id order probing it per row.
                from = "entity_search CROSS JOIN entity_search_rows r ON r.row = entity_search.rowid CROSS JOIN entities e ON e.id = r.id";
                where.Add("entity_search MATCH $phrase");
                command.Parameters.AddWithValue("$phrase", phrase);
            }
        }

        if (kind is { } k)
        {
            where.Add("e.kind = $kind");
            command.Parameters.AddWithValue("$kind", k.WireName());
        }

        command.CommandText = $"""
            SELECT e.id, e.name, e.kind, e.tags, e.created_at, e.updated_at FROM {from}
            WHERE {string.Join(" AND ", where)} ORDER BY e.id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadEntitiesAsync(command, cancellationToken);
    }

    /// <summary>Whether the trigram index holds fewer than <paramref name="hits"/> rows that contain the phrase.</summary>
    private static async Task<bool> FewHitsAsync(SqliteConnection connection, string phrase, int hits, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM (SELECT 1 FROM entity_search WHERE entity_search MATCH $phrase LIMIT $hits)";
        command.Parameters.AddWithValue("$phrase", phrase);
        command.Parameters.AddWithValue("$hits", hits);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken)) < hits;
    }

    public async Task<IReadOnlyList<UpsertOutcome>> UpsertLinksAsync(IReadOnlyList<LinkRecord> links, CancellationToken cancellationToken = default)
    {
        var outcomes = new UpsertOutcome[links.Count];
        if (links.Count == 0)
        {
            return outcomes;
        }

        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var existing = connection.CreateCommand();
        existing.Transaction = transaction;
        existing.CommandText = "SELECT weight, relation FROM links WHERE from_entity = $from AND to_entity = $to";
        var from = existing.Parameters.Add("$from", SqliteType.Text);
        var to = existing.Parameters.Add("$to", SqliteType.Text);
        await using var upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO links (from_entity, to_entity, weight, relation) VALUES ($from, $to, $weight, $relation)
            ON CONFLICT (from_entity, to_entity) DO UPDATE SET weight = excluded.weight, relation = excluded.relation
            """;
        var upsertFrom = upsert.Parameters.Add("$from", SqliteType.Text);
        var upsertTo = upsert.Parameters.Add("$to", SqliteType.Text);
        var weight = upsert.Parameters.Add("$weight", SqliteType.Real);
        var relation = upsert.Parameters.Add("$relation", SqliteType.Text);
        for (var i = 0; i < links.Count; i++)
        {
            var link = links[i];
            (from.Value, to.Value) = (link.From, link.To);
            await using (var reader = await existing.ExecuteReaderAsync(cancellationToken))
            {
                outcomes[i] = !await reader.ReadAsync(cancellationToken) ? UpsertOutcome.Created
                    : reader.GetDouble(0) == link.Weight && reader.GetString(1) == link.Relation ? UpsertOutcome.Unchanged
                    : UpsertOutcome.Updated;
            }

            if (outcomes[i] != UpsertOutcome.Unchanged)
            {
                (upsertFrom.Value, upsertTo.Value, weight.Value, relation.Value) = (link.From, link.To, link.Weight, link.Relation);
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return outcomes;
    }

    private protected override async Task<IReadOnlyList<EntityRecord>> QueryEntitiesAsync(string? id, CancellationToken cancellationToken)
    {
        var where = id is null ? "" : "WHERE id = $id";
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, name, kind, tags, created_at, updated_at FROM entities {where} ORDER BY id";
        if (id is not null)
        {
            command.Parameters.AddWithValue("$id", id);
        }

        return await ReadEntitiesAsync(command, cancellationToken);
    }

    private async Task<IReadOnlyList<EntityRecord>> ReadEntitiesAsync(SqliteCommand command, CancellationToken cancellationToken) =>
        await StoredRows.ReadAllAsync(command, reader => Known.Seen(ReadEntity(reader)), cancellationToken);

    public async Task<bool> UpsertLinkAsync(LinkRecord link, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var exists = connection.CreateCommand();
        exists.CommandText = "SELECT 1 FROM links WHERE from_entity = $from AND to_entity = $to";
        exists.Parameters.AddWithValue("$from", link.From);
        exists.Parameters.AddWithValue("$to", link.To);
        var created = await exists.ExecuteScalarAsync(cancellationToken) is null;

        await using var upsert = connection.CreateCommand();
        upsert.CommandText = """
            INSERT INTO links (from_entity, to_entity, weight, relation) VALUES ($from, $to, $weight, $relation)
            ON CONFLICT (from_entity, to_entity) DO UPDATE SET weight = excluded.weight, relation = excluded.relation
            """;
        upsert.Parameters.AddWithValue("$from", link.From);
        upsert.Parameters.AddWithValue("$to", link.To);
        upsert.Parameters.AddWithValue("$weight", link.Weight);
        upsert.Parameters.AddWithValue("$relation", link.Relation);
        await upsert.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return created;
    }

    public async Task<bool> DeleteLinkAsync(string from, string to, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM links WHERE from_entity = $from AND to_entity = $to";
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", to);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<LinkRecord>> LinksOfAsync(string entity, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT from_entity, to_entity, weight, relation FROM links
            WHERE from_entity = $id OR to_entity = $id
            ORDER BY from_entity, to_entity
            """;
        command.Parameters.AddWithValue("$id", entity);
        return await StoredRows.ReadAllAsync(command, ReadLink, cancellationToken);
    }

    public async Task<bool> UpsertGroupAsync(string id, string name, GroupMethod method, IReadOnlyList<GroupMember> members, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        var now = DateTimeOffset.UtcNow.UtcTicks;
        command.CommandText = """
            INSERT INTO entity_groups (id, name, method, members, created_at, updated_at) VALUES ($id, $name, $method, $members, $now, $now)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, method = excluded.method, members = excluded.members, updated_at = excluded.updated_at
            RETURNING created_at = updated_at
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$method", method.WireName());
        command.Parameters.AddWithValue("$members", GroupMembersJson.Write(members));
        command.Parameters.AddWithValue("$now", now);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken)) == 1;
    }

    public async Task<GroupRecord?> FindGroupAsync(string id, CancellationToken cancellationToken = default) =>
        (await QueryGroupsAsync("WHERE id = $id", id, cancellationToken)).FirstOrDefault();

    public Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(string? after = null, int? limit = null, CancellationToken cancellationToken = default) =>
        QueryGroupsAsync(after is null ? "" : "WHERE id > $id", after, cancellationToken, limit);

    private async Task<IReadOnlyList<GroupRecord>> QueryGroupsAsync(string where, string? id, CancellationToken cancellationToken, int? limit = null)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, name, method, members, created_at, updated_at FROM entity_groups {where} ORDER BY id LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit ?? -1);
        if (id is not null)
        {
            command.Parameters.AddWithValue("$id", id);
        }

        return await StoredRows.ReadAllAsync(command, ReadGroup, cancellationToken);
    }
}
