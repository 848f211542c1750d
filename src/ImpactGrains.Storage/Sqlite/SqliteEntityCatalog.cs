using System.Collections.Concurrent;
using System.Text.Json;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;
using Microsoft.Data.Sqlite;

namespace ImpactGrains.Storage.Sqlite;

/// <summary>The entity catalog of the embedded profile, in the same file as the event log.</summary>
public sealed class SqliteEntityCatalog(SqliteDatabase database) : IEntityCatalog
{
    // Entities are never removed, so once seen an entity stays known; ingestion checks every event against this.
    private readonly ConcurrentDictionary<string, bool> known = new(StringComparer.Ordinal);

    public async Task<bool> UpsertEntityAsync(string id, string name, EntityKind kind, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
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
        known[id] = true;
        return created;
    }

    public async Task<EntityRecord?> FindEntityAsync(string id, CancellationToken cancellationToken = default)
    {
        var found = await QueryEntitiesAsync("WHERE id = $id", id, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public async ValueTask<bool> ExistsAsync(string id, CancellationToken cancellationToken = default)
    {
        if (known.ContainsKey(id))
        {
            return true;
        }

        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM entities WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        var exists = await command.ExecuteScalarAsync(cancellationToken) is not null;
        if (exists)
        {
            known[id] = true;
        }

        return exists;
    }

    public Task<IReadOnlyList<EntityRecord>> ListEntitiesAsync(CancellationToken cancellationToken = default) =>
        QueryEntitiesAsync("", null, cancellationToken);

    private async Task<IReadOnlyList<EntityRecord>> QueryEntitiesAsync(string where, string? id, CancellationToken cancellationToken)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, name, kind, tags, created_at, updated_at FROM entities {where} ORDER BY id";
        if (id is not null)
        {
            command.Parameters.AddWithValue("$id", id);
        }

        var result = new List<EntityRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            EntityKinds.TryParse(reader.GetString(2), out var kind);
            result.Add(new EntityRecord(
                reader.GetString(0),
                reader.GetString(1),
                kind,
                JsonSerializer.Deserialize<string[]>(reader.GetString(3)) ?? [],
                new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero),
                new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero)));
            known[reader.GetString(0)] = true;
        }

        return result;
    }

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
        var result = new List<LinkRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new LinkRecord(reader.GetString(0), reader.GetString(1), reader.GetDouble(2), reader.GetString(3)));
        }

        return result;
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

    public Task<IReadOnlyList<GroupRecord>> ListGroupsAsync(CancellationToken cancellationToken = default) =>
        QueryGroupsAsync("", null, cancellationToken);

    private async Task<IReadOnlyList<GroupRecord>> QueryGroupsAsync(string where, string? id, CancellationToken cancellationToken)
    {
        await using var connection = await SqliteDatabase.OpenAsync(database.LogConnectionString, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, name, method, members, created_at, updated_at FROM entity_groups {where} ORDER BY id";
        if (id is not null)
        {
            command.Parameters.AddWithValue("$id", id);
        }

        var result = new List<GroupRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            GroupMethods.TryParse(reader.GetString(2), out var method);
            result.Add(new GroupRecord(reader.GetString(0), reader.GetString(1), method, GroupMembersJson.Read(reader.GetString(3)),
                new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero), new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero)));
        }

        return result;
    }
}
