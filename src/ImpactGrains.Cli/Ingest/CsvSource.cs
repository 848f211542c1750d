using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ImpactGrains.Cli.Ingest;

/// <summary>
/// CSV events (RFC 4180: comma-separated, fields with commas, quotes or line breaks in double quotes, a quote in a
/// quoted field doubled). The first record is the header: <c>id, entity, type, occurredAt, region, confidence,
/// source</c> and <c>data.NAME</c> columns (<c>data.a.b</c> nests). Each row becomes the JSON form of the event: an
/// empty cell is left out; an unquoted number, <c>true</c> or <c>false</c> becomes a JSON number or boolean; anything
/// else, and any quoted cell, a string. A row that cannot be read is rejected locally with the reason.
/// </summary>
internal sealed partial class CsvSource : IEventSource
{
    private static readonly string[] TopLevel = ["id", "entity", "type", "occurredAt", "region", "confidence", "source"];
    private static readonly string[] Required = ["id", "entity", "type", "occurredAt"];

    private readonly LineReader reader;
    private readonly Column[] columns;
    private readonly int idColumn;
    private readonly DataNode data;
    private readonly ArrayBufferWriter<byte> json = new(4096);
    private readonly List<Cell> cells = [];
    private readonly StringBuilder field = new();

    public CsvSource(string path, long offset, long line)
    {
        var headerReader = new LineReader(path);
        try
        {
            var header = ReadRecord(headerReader, cells);
            if (header is null)
            {
                throw new CliFailure($"{path}: the CSV file is empty; its first line must be a header such as id,entity,type,occurredAt,data.reports");
            }

            if (header.Value.Error is { } error)
            {
                throw new CliFailure($"{path}: the CSV header cannot be read: {error}");
            }

            (columns, data) = ParseHeader(path, cells.Select(c => c.Value.Trim()).ToArray());
            idColumn = Array.FindIndex(columns, c => c.Name == "id");
            if (offset == 0)
            {
                reader = headerReader;
                return;
            }
        }
        catch
        {
            headerReader.Dispose();
            throw;
        }

        headerReader.Dispose();
        reader = new LineReader(path, offset, line);
    }

    public long Length => reader.Length;

    public bool TryRead(out SourceEvent item)
    {
        while (ReadRecord(reader, cells) is { } record)
        {
            if (record.Error is null && cells.Count == 1 && !cells[0].Quoted && cells[0].Value.Trim().Length == 0)
            {
                continue; // a blank line
            }

            var id = idColumn < cells.Count && cells[idColumn].Value.Length > 0 ? cells[idColumn].Value.Trim() : null;
            var error = record.Error
                ?? (cells.Count != columns.Length ? $"line {record.Line}: the row has {cells.Count} fields; the header has {columns.Length}" : null);
            if (error is not null)
            {
                item = new SourceEvent(default, record.Line, reader.Offset, reader.LineNumber, id, error);
                return true;
            }

            item = new SourceEvent(Write(), record.Line, reader.Offset, reader.LineNumber, id, null);
            return true;
        }

        item = default;
        return false;
    }

    private ReadOnlyMemory<byte> Write()
    {
        json.Clear();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            for (var i = 0; i < columns.Length; i++)
            {
                if (columns[i].Data is not null)
                {
                    continue;
                }

                var cell = cells[i];
                var value = cell.Quoted ? cell.Value : cell.Value.Trim();
                if (value.Length == 0)
                {
                    continue;
                }

                writer.WritePropertyName(columns[i].Name);
                if (columns[i].Name == "confidence")
                {
                    WriteValue(writer, cell with { Value = value });
                }
                else
                {
                    writer.WriteStringValue(value);
                }
            }

            if (HasValue(data))
            {
                WriteObject(writer, data);
            }

            writer.WriteEndObject();
        }

        return json.WrittenMemory;
    }

    private bool HasValue(DataNode node) =>
        node.Column is { } column ? (cells[column].Quoted ? cells[column].Value.Length > 0 : cells[column].Value.Trim().Length > 0) : node.Children.Any(HasValue);

    private void WriteObject(Utf8JsonWriter writer, DataNode node)
    {
        writer.WritePropertyName(node.Name);
        if (node.Column is { } column)
        {
            WriteValue(writer, cells[column]);
            return;
        }

        writer.WriteStartObject();
        foreach (var child in node.Children.Where(HasValue))
        {
            WriteObject(writer, child);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, Cell cell)
    {
        if (cell.Quoted)
        {
            writer.WriteStringValue(cell.Value);
            return;
        }

        var value = cell.Value.Trim();
        if (value == "true" || value == "false")
        {
            writer.WriteBooleanValue(value == "true");
        }
        else if (JsonNumber().IsMatch(value))
        {
            writer.WriteRawValue(value, skipInputValidation: true);
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    private static (Column[] Columns, DataNode Data) ParseHeader(string path, string[] names)
    {
        var columns = new Column[names.Length];
        var data = new DataNode("data", null, []);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            var name = names[i];
            var top = TopLevel.FirstOrDefault(t => string.Equals(t, name, StringComparison.OrdinalIgnoreCase));
            if (top is not null)
            {
                columns[i] = new Column(top, null);
            }
            else if (name.StartsWith("data.", StringComparison.OrdinalIgnoreCase) && name.Length > 5)
            {
                var parts = name[5..].Split('.');
                if (parts.Any(p => p.Length == 0))
                {
                    throw new CliFailure($"{path}: CSV column '{name}': empty name part");
                }

                columns[i] = new Column(name, parts);
                AddPath(path, data, parts, 0, i, name);
            }
            else
            {
                throw new CliFailure($"{path}: unknown CSV column '{name}'; expected {string.Join(", ", TopLevel)} or data.NAME (such as data.reports)");
            }

            if (!seen.Add(columns[i].Name.ToLowerInvariant()))
            {
                throw new CliFailure($"{path}: CSV column '{name}' is given twice");
            }
        }

        var missing = Required.Where(r => !columns.Any(c => c.Name == r)).ToArray();
        if (missing.Length > 0)
        {
            throw new CliFailure($"{path}: the CSV header lacks the column{(missing.Length > 1 ? "s" : "")} {string.Join(", ", missing)} (it needs id, entity, type and occurredAt)");
        }

        return (columns, data);
    }

    private static void AddPath(string path, DataNode parent, string[] parts, int depth, int column, string name)
    {
        var existing = parent.Children.FirstOrDefault(c => c.Name == parts[depth]);
        if (depth == parts.Length - 1)
        {
            if (existing is not null)
            {
                throw new CliFailure($"{path}: CSV column '{name}' clashes with another data column");
            }

            parent.Children.Add(new DataNode(parts[depth], column, []));
            return;
        }

        if (existing is null)
        {
            existing = new DataNode(parts[depth], null, []);
            parent.Children.Add(existing);
        }
        else if (existing.Column is not null)
        {
            throw new CliFailure($"{path}: CSV column '{name}' clashes with another data column");
        }

        AddPath(path, existing, parts, depth + 1, column, name);
    }

    /// <summary>Reads one record (which may span lines) into <paramref name="into"/>; null at the end of the file.</summary>
    private (long Line, string? Error)? ReadRecord(LineReader source, List<Cell> into)
    {
        into.Clear();
        if (!source.TryReadLine(out var bytes))
        {
            return null;
        }

        var line = source.LineNumber;
        var text = InputFormat.Utf8(bytes);
        field.Clear();
        var pos = 0;
        var quoted = false;
        var inQuotes = false;
        while (true)
        {
            if (pos == text.Length)
            {
                if (!inQuotes)
                {
                    into.Add(new Cell(field.ToString(), quoted));
                    return (line, null);
                }

                if (!source.TryReadLine(out bytes))
                {
                    return (line, $"line {line}: a quoted field is not closed before the end of the file");
                }

                field.Append('\n');
                text = InputFormat.Utf8(bytes);
                pos = 0;
                continue;
            }

            var c = text[pos++];
            if (inQuotes)
            {
                if (c != '"')
                {
                    field.Append(c);
                }
                else if (pos < text.Length && text[pos] == '"')
                {
                    field.Append('"');
                    pos++;
                }
                else
                {
                    inQuotes = false;
                    while (pos < text.Length && (text[pos] == ' ' || text[pos] == '\t'))
                    {
                        pos++;
                    }

                    if (pos < text.Length && text[pos] != ',')
                    {
                        return (line, $"line {source.LineNumber}: unexpected '{text[pos]}' after a closing quote");
                    }
                }
            }
            else if (c == ',')
            {
                into.Add(new Cell(field.ToString(), quoted));
                field.Clear();
                quoted = false;
            }
            else if (c == '"' && !quoted && IsBlank(field))
            {
                field.Clear();
                inQuotes = true;
                quoted = true;
            }
            else
            {
                field.Append(c);
            }
        }
    }

    private static bool IsBlank(StringBuilder text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != ' ' && text[i] != '\t')
            {
                return false;
            }
        }

        return true;
    }

    public void Dispose() => reader.Dispose();

    private readonly record struct Cell(string Value, bool Quoted);

    private sealed record Column(string Name, string[]? Data);

    private sealed record DataNode(string Name, int? Column, List<DataNode> Children);
}
