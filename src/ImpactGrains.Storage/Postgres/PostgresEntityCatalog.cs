using System.Text.Json;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;
using Npgsql;
using NpgsqlTypes;
using static ImpactGrains.Storage.CatalogRows<ImpactGrains.Storage.TimestampColumn>;

namespace ImpactGrains.Storage.Postgres;

/// <summary>The entity catalog on PostgreSQL, shared by every silo.</summary>
public sealed class PostgresEntityCatalog(PostgresDatabase database) : EntityCatalogBase, IEntityCatalog
{
    private NpgsqlDataSource Source => database.DataSource;

    public async Task<bool> UpsertEntityAsync(string id, string name, EntityKind kind, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            INSERT INTO entities (id, name, kind, tags) VALUES ($1, $2, $3, $4)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, tags = excluded.tags, updated_at = now()
            RETURNING xmax = 0
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue(kind.WireName());
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(tags), NpgsqlDbType = NpgsqlDbType.Jsonb });
        var created = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        Known.Add(id);
        return created;
    }

    private protected override async Task<bool> EntityRowExistsAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = Source.CreateCommand("SELECT 1 FROM entities WHERE id = $1");
        command.Parameters.AddWithValue(id);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private protected override async Task<IReadOnlyList<EntityRecord>> QueryEntitiesAsync(string? id, CancellationToken cancellationToken)
    {
        var where = id is null ? "" : "WHERE id = $1";
        await using var command = Source.CreateCommand($"SELECT id, name, kind, tags::text, created_at, updated_at FROM entities {where} ORDER BY id");
        if (id is not null)
        {
            command.Parameters.AddWithValue(id);
        }

        return await ReadEntitiesAsync(command, cancellationToken);
    }

    private async Task<IReadOnlyList<EntityRecord>> ReadEntitiesAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        await StoredRows.ReadAllAsync(command, reader => Known.Seen(ReadEntity(reader)), cancellationToken);

    public async Task<IReadOnlyList<UpsertOutcome>> UpsertEntitiesAsync(IReadOnlyList<EntityInput> entities, CancellationToken cancellationToken = default)
    {
        var outcomes = new UpsertOutcome[entities.Count];
        if (entities.Count == 0)
        {
            return outcomes;
        }

        // One statement for the batch. Rows that would not change are not written, and RETURNING gives none for them;
        // a repeated id within the batch takes its last form, as one upsert after another would.
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < entities.Count; i++)
        {
            last[entities[i].Id] = i;
        }

        var rows = last.Values.Order().Select(i => entities[i]).ToList();
        await using var command = Source.CreateCommand("""
            INSERT INTO entities (id, name, kind, tags)
            SELECT id, name, kind, tags::jsonb FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[]) AS u(id, name, kind, tags)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, tags = excluded.tags, updated_at = now()
            WHERE (entities.name, entities.kind, entities.tags) IS DISTINCT FROM (excluded.name, excluded.kind, excluded.tags)
            RETURNING id, xmax = 0
            """);
        command.Parameters.AddWithValue(rows.Select(e => e.Id).ToArray());
        command.Parameters.AddWithValue(rows.Select(e => e.Name).ToArray());
        command.Parameters.AddWithValue(rows.Select(e => e.Kind.WireName()).ToArray());
        command.Parameters.AddWithValue(rows.Select(e => JsonSerializer.Serialize(e.Tags)).ToArray());
        var written = new Dictionary<string, bool>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                written[reader.GetString(0)] = reader.GetBoolean(1);
            }
        }

        for (var i = 0; i < entities.Count; i++)
        {
            var id = entities[i].Id;
            outcomes[i] = last[id] != i || !written.TryGetValue(id, out var created) ? UpsertOutcome.Unchanged
                : created ? UpsertOutcome.Created : UpsertOutcome.Updated;
            Known.Add(id);
        }

        return outcomes;
    }

    public async Task<IReadOnlyList<EntityRecord>> PageEntitiesAsync(string? after, int limit, string? query, EntityKind? kind, CancellationToken cancellationToken = default)
    {
        // The statement is planned for its own values (it is not prepared), so the planner weighs the pattern: a rare one
        // reads the trigram indexes of migration 0008 (a BitmapOr of id and name), a common one walks the primary key in
        // id order and stops at the page's end. A generic plan could do neither; prepare this statement only with care.
        await using var command = Source.CreateCommand($"""
            SELECT id, name, kind, tags::text, created_at, updated_at FROM entities
            WHERE id > $1 AND ($2::text IS NULL OR id ILIKE $2 OR name ILIKE $2) AND ($3::text IS NULL OR kind = $3)
            ORDER BY id LIMIT $4
            """);
        command.Parameters.AddWithValue(after ?? "");
        command.Parameters.Add(new NpgsqlParameter { Value = string.IsNullOrEmpty(query) ? DBNull.Value : CatalogSearch.ContainsPattern(query), NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = kind is { } k ? k.WireName() : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.AddWithValue(limit);
        return await ReadEntitiesAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<UpsertOutcome>> UpsertLinksAsync(IReadOnlyList<LinkRecord> links, CancellationToken cancellationToken = default)
    {
        var outcomes = new UpsertOutcome[links.Count];
        if (links.Count == 0)
        {
            return outcomes;
        }

        var last = new Dictionary<(string, string), int>();
        for (var i = 0; i < links.Count; i++)
        {
            last[(links[i].From, links[i].To)] = i;
        }

        var rows = last.Values.Order().Select(i => links[i]).ToList();
        await using var command = Source.CreateCommand("""
            INSERT INTO links (from_entity, to_entity, weight, relation)
            SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::double precision[], $4::varchar[])
            ON CONFLICT (from_entity, to_entity) DO UPDATE SET weight = excluded.weight, relation = excluded.relation
            WHERE (links.weight, links.relation) IS DISTINCT FROM (excluded.weight, excluded.relation)
            RETURNING from_entity, to_entity, xmax = 0
            """);
        command.Parameters.AddWithValue(rows.Select(l => l.From).ToArray());
        command.Parameters.AddWithValue(rows.Select(l => l.To).ToArray());
        command.Parameters.AddWithValue(rows.Select(l => l.Weight).ToArray());
        command.Parameters.AddWithValue(rows.Select(l => l.Relation).ToArray());
        var written = new Dictionary<(string, string), bool>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                written[(reader.GetString(0), reader.GetString(1))] = reader.GetBoolean(2);
            }
        }

        for (var i = 0; i < links.Count; i++)
        {
            var key = (links[i].From, links[i].To);
            outcomes[i] = last[key] != i || !written.TryGetValue(key, out var created) ? UpsertOutcome.Unchanged
                : created ? UpsertOutcome.Created : UpsertOutcome.Updated;
        }

        return outcomes;
    }

    public async Task<bool> UpsertLinkAsync(LinkRecord link, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            INSERT INTO links (from_entity, to_entity, weight, relation) VALUES ($1, $2, $3, $4)
            ON CONFLICT (from_entity, to_entity) DO UPDATE SET weight = excluded.weight, relation = excluded.relation
            RETURNING xmax = 0
            """);
        command.Parameters.AddWithValue(link.From);
        command.Parameters.AddWithValue(link.To);
        command.Parameters.AddWithValue(link.Weight);
        command.Parameters.AddWithValue(link.Relation);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<bool> DeleteLinkAsync(string from, string to, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("DELETE FROM links WHERE from_entity = $1 AND to_entity = $2");
        command.Parameters.AddWithValue(from);
        command.Parameters.AddWithValue(to);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<LinkRecord>> LinksOfAsync(string entity, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            SELECT from_entity, to_entity, weight, relation FROM links
            WHERE from_entity = $1 OR to_entity = $1
            ORDER BY from_entity, to_entity
            """);
        command.Parameters.AddWithValue(entity);
        return await StoredRows.ReadAllAsync(command, ReadLink, cancellationToken);
    }

    public async Task<bool> UpsertGroupAsync(string id, string name, GroupMethod method, IReadOnlyList<GroupMember> members, CancellationToken cancellationToken = default)
    {
        await using var command = Source.CreateCommand("""
            INSERT INTO entity_groups (id, name, method, members) VALUES ($1, $2, $3, $4)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, method = excluded.method, members = excluded.members, updated_at = now()
            RETURNING xmax = 0
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(name);
        command.Parameters.AddWithValue(method.WireName());
        command.Parameters.Add(new NpgsqlParameter { Value = GroupMembersJson.Write(members), NpgsqlDbType = NpgsqlDbType.Jsonb });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<GroupRecord?> FindGroupAsync(string id, CancellationToken cancellationToken = default) =>
        (await QueryGroupsAsync("WHERE id = $1", id, cancellationToken)).FirstOrDefault();

    public Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(string? after = null, int? limit = null, CancellationToken cancellationToken = default) =>
        QueryGroupsAsync(after is null ? "" : "WHERE id > $1", after, cancellationToken, limit);

    private async Task<IReadOnlyList<GroupRecord>> QueryGroupsAsync(string where, string? id, CancellationToken cancellationToken, int? limit = null)
    {
        var page = limit is { } n ? $" LIMIT {n.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "";
        await using var command = Source.CreateCommand($"SELECT id, name, method, members::text, created_at, updated_at FROM entity_groups {where} ORDER BY id{page}");
        if (id is not null)
        {
            command.Parameters.AddWithValue(id);
        }

        return await StoredRows.ReadAllAsync(command, ReadGroup, cancellationToken);
    }
}
