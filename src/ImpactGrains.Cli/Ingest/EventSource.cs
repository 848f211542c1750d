using System.Text;

namespace ImpactGrains.Cli.Ingest;

/// <summary>
/// One event read from an input file: its JSON (valid until the next read), or the reason it could not be read.
/// <see cref="Line"/> is the 1-based line it starts on; <see cref="EndOffset"/> and <see cref="EndLine"/> say where the
/// file goes on after it.
/// </summary>
internal readonly record struct SourceEvent(ReadOnlyMemory<byte> Json, long Line, long EndOffset, long EndLine, string? Id, string? Error);

/// <summary>Events from an input file, from a given offset on.</summary>
internal interface IEventSource : IDisposable
{
    long Length { get; }

    bool TryRead(out SourceEvent item);
}

/// <summary>NDJSON: one event per line, sent as it is; blank lines are skipped, as the server skips them.</summary>
internal sealed class NdjsonSource(string path, long offset, long line) : IEventSource
{
    private readonly LineReader reader = new(path, offset, line);
    private byte[] copy = new byte[4096];

    public long Length => reader.Length;

    public bool TryRead(out SourceEvent item)
    {
        while (reader.TryReadLine(out var line))
        {
            var trimmed = line.Trim(" \t\r"u8);
            if (trimmed.IsEmpty)
            {
                continue;
            }

            if (trimmed.Length > copy.Length)
            {
                copy = new byte[Math.Max(trimmed.Length, copy.Length * 2)];
            }

            trimmed.CopyTo(copy);
            item = new SourceEvent(copy.AsMemory(0, trimmed.Length), reader.LineNumber, reader.Offset, reader.LineNumber, null, null);
            return true;
        }

        item = default;
        return false;
    }

    public void Dispose() => reader.Dispose();
}

internal static class InputFormat
{
    public static bool IsCsv(string path, string format) =>
        format switch
        {
            "csv" => true,
            "ndjson" => false,
            _ => path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase),
        };

    public static IEventSource Open(string path, bool csv, long offset, long line) =>
        csv ? new CsvSource(path, offset, line) : new NdjsonSource(path, offset, line);

    internal static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
