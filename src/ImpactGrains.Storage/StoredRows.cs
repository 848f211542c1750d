using System.Data.Common;

namespace ImpactGrains.Storage;

/// <summary>
/// How a provider stores an instant. The row mappers take it as a type argument rather than a delegate, so that each
/// provider's mapper is compiled for its own column type and reading a column costs no indirect call.
/// </summary>
internal interface IInstantColumn
{
    static abstract DateTimeOffset Read(DbDataReader reader, int ordinal);
}

/// <summary>UTC ticks in an integer column: every instant on SQLite, and the keyed instants (rule creation, alert time) on both.</summary>
internal readonly struct TicksColumn : IInstantColumn
{
    public static DateTimeOffset Read(DbDataReader reader, int ordinal) => new(reader.GetInt64(ordinal), TimeSpan.Zero);
}

/// <summary>A <c>timestamptz</c> column on PostgreSQL.</summary>
internal readonly struct TimestampColumn : IInstantColumn
{
    public static DateTimeOffset Read(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);
}

/// <summary>Reading rows through System.Data.Common, which both providers' readers implement.</summary>
internal static class StoredRows
{
    public static async Task<List<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>The first row, or null when there is none.</summary>
    public static async Task<T?> ReadFirstAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
        where T : class
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? read(reader) : null;
    }

    public static string? GetNullableString(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTimeOffset? GetNullableInstant<TInstant>(this DbDataReader reader, int ordinal)
        where TInstant : IInstantColumn =>
        reader.IsDBNull(ordinal) ? null : TInstant.Read(reader, ordinal);

    /// <summary>
    /// Reads keyset pages until one comes back short: <paramref name="readPage"/> gets the key of the last row read
    /// (<paramref name="start"/> at first), so no long range is ever held in memory at once.
    /// </summary>
    public static async IAsyncEnumerable<T> ReadPagesAsync<T, TKey>(
        TKey start,
        int pageSize,
        Func<TKey, CancellationToken, Task<IReadOnlyList<T>>> readPage,
        Func<T, TKey> keyOf,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = start;
        while (true)
        {
            var page = await readPage(after, cancellationToken);
            foreach (var row in page)
            {
                yield return row;
            }

            if (page.Count < pageSize)
            {
                yield break;
            }

            after = keyOf(page[^1]);
        }
    }
}
