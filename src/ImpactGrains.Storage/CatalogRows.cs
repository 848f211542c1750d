using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.Json;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;

namespace ImpactGrains.Storage;

/// <summary>
/// How the catalog's rows read back, the same on both providers: JSON lists as text, instants as
/// <typeparamref name="TInstant"/>. Column order: entities (id, name, kind, tags, created_at, updated_at); groups (id,
/// name, method, members, created_at, updated_at); links (from_entity, to_entity, weight, relation).
/// </summary>
internal static class CatalogRows<TInstant>
    where TInstant : IInstantColumn
{
    public static EntityRecord ReadEntity(DbDataReader reader)
    {
        EntityKinds.TryParse(reader.GetString(2), out var kind);
        var tags = JsonSerializer.Deserialize<string[]>(reader.GetString(3)) ?? [];
        return new EntityRecord(reader.GetString(0), reader.GetString(1), kind, tags, TInstant.Read(reader, 4), TInstant.Read(reader, 5));
    }

    public static GroupRecord ReadGroup(DbDataReader reader)
    {
        GroupMethods.TryParse(reader.GetString(2), out var method);
        var members = GroupMembersJson.Read(reader.GetString(3));
        return new GroupRecord(reader.GetString(0), reader.GetString(1), method, members, TInstant.Read(reader, 4), TInstant.Read(reader, 5));
    }

    public static LinkRecord ReadLink(DbDataReader reader) => new(reader.GetString(0), reader.GetString(1), reader.GetDouble(2), reader.GetString(3));
}

/// <summary>
/// The entity ids a catalog has seen. Entities are never removed, so once seen an entity stays known; ingestion checks
/// every event against this, and only an entity not seen yet costs a query.
/// </summary>
internal sealed class KnownEntities
{
    private readonly ConcurrentDictionary<string, bool> ids = new(StringComparer.Ordinal);

    public bool Contains(string id) => ids.ContainsKey(id);

    public void Add(string id) => ids[id] = true;

    /// <summary>Remembers the entity of a row read back; returns it.</summary>
    public EntityRecord Seen(EntityRecord entity)
    {
        Add(entity.Id);
        return entity;
    }

    /// <summary>Remembers <paramref name="id"/> when the database found it; returns whether it did.</summary>
    public bool Found(string id, bool exists)
    {
        if (exists)
        {
            Add(id);
        }

        return exists;
    }
}

internal static class CatalogSearch
{
    /// <summary>
    /// A LIKE pattern for "contains <paramref name="text"/>": its own wildcards are escaped with a backslash (PostgreSQL's default
    /// escape; SQLite's statement names it), so that they match only themselves.
    /// </summary>
    public static string ContainsPattern(string text) => "%" + text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";

    /// <summary>
    /// Whether a trigram index can find <paramref name="text"/>: it must hold at least one trigram, three characters
    /// (code points, as both indexes count them). A shorter text is searched by the ordered scan, which stops at the
    /// page's end soon enough since so short a text matches many rows.
    /// </summary>
    public static bool HasTrigrams(string text) => text.EnumerateRunes().Take(3).Count() == 3 && !text.Contains('\0');

    /// <summary>
    /// <paramref name="text"/> as an FTS5 phrase: in double quotes, its own doubled, so that FTS5's query syntax
    /// (<c>*</c>, <c>AND</c>, <c>NEAR(</c>, <c>-</c>, <c>:</c>, <c>^</c>) is read as text. With the trigram tokenizer a
    /// phrase matches the rows that contain it, folded to lower case.
    /// </summary>
    public static string TrigramPhrase(string text) => "\"" + text.Replace("\"", "\"\"") + "\"";

    /// <summary>
    /// How many index hits a search reads before it takes the match for a common one and scans in id order instead:
    /// reading and sorting every hit costs in proportion to the hits, the scan in proportion to how far it must go to
    /// fill the page, which is short when the match is common.
    /// </summary>
    public static int IndexedHitsLimit(int limit) => 1000 + (10 * Math.Max(limit, 0));
}
