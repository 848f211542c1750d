using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImpactGrains.Scoring.Validation;
using Microsoft.Net.Http.Headers;

namespace ImpactGrains.Server.Feeds;

public enum FeedBodyFormat
{
    Json,
    Ndjson,
}

/// <summary>The events of one feed message, each judged on its own, or why the whole message could not be read.</summary>
public readonly record struct FeedRead(IReadOnlyList<EventParseResult>? Events, FeedBodyFormat Format, string? Problem);

/// <summary>
/// Reads a feed message exactly as <c>POST /api/events</c> reads a body (<see cref="EventBatchReader"/>: one event object,
/// a JSON array of them, or NDJSON), and writes the rejection records of the rejected subject. A <c>Content-Type</c>
/// header names the format as over HTTP; without one, a body is JSON unless it is not one JSON value and its first line
/// is one on its own, which makes it NDJSON.
/// </summary>
public static class FeedMessageReader
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static FeedRead Read(ReadOnlySpan<byte> body, string? contentType, int maxEvents, DateTimeOffset latestAllowed)
    {
        FeedBodyFormat format;
        if (!string.IsNullOrWhiteSpace(contentType))
        {
            if (FormatOf(contentType) is not { } named)
            {
                return new FeedRead(null, FeedBodyFormat.Json,
                    $"unsupported Content-Type '{contentType}': send application/json (one event or an array) or application/x-ndjson (one event per line)");
            }

            format = named;
        }
        else
        {
            format = FeedBodyFormat.Json;
        }

        if (IsBlank(body))
        {
            return new FeedRead(null, format, "the message is empty");
        }

        var batch = format == FeedBodyFormat.Json
            ? EventBatchReader.ReadJson(body, maxEvents, latestAllowed)
            : EventBatchReader.ReadNdjson(body, maxEvents, latestAllowed);
        if (batch.Problem is { Kind: BatchProblemKind.Malformed } && string.IsNullOrWhiteSpace(contentType) && FirstLineIsJsonValue(body))
        {
            format = FeedBodyFormat.Ndjson;
            batch = EventBatchReader.ReadNdjson(body, maxEvents, latestAllowed);
        }

        return batch.Problem switch
        {
            null => new FeedRead(batch.Events, format, null),
            { Kind: BatchProblemKind.TooMany } => new FeedRead(null, format, $"the message carries more than {maxEvents} events; split it"),
            { } problem => new FeedRead(null, format, problem.Detail.Replace("the body", "the message", StringComparison.Ordinal)),
        };
    }

    /// <summary>The bytes of each event of a readable message as it was received, in the order of its parse results.</summary>
    public static IReadOnlyList<Range> EventRanges(ReadOnlySpan<byte> body, FeedBodyFormat format)
    {
        var ranges = new List<Range>();
        if (format == FeedBodyFormat.Ndjson)
        {
            var start = 0;
            while (start < body.Length)
            {
                var end = body[start..].IndexOf((byte)'\n');
                var stop = end < 0 ? body.Length : start + end;
                if (!IsBlank(body[start..stop]))
                {
                    ranges.Add(Trim(body, start, stop));
                }

                start = stop + 1;
            }

            return ranges;
        }

        var reader = new Utf8JsonReader(body, ReaderOptions);
        if (!reader.Read())
        {
            return ranges;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            ranges.Add(Trim(body, 0, body.Length));
            return ranges;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var from = (int)reader.TokenStartIndex;
            reader.Skip();
            ranges.Add(from..(int)reader.BytesConsumed);
        }

        return ranges;
    }

    /// <summary>
    /// One message of the rejected subject: <c>{"error": …, "id": …, "event": …}</c>, where event is the event as it was
    /// received when that is JSON, and otherwise its text.
    /// </summary>
    public static byte[] Rejection(string error, string? id, ReadOnlySpan<byte> received)
    {
        var buffer = new ArrayBufferWriter<byte>(received.Length + error.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("error", error);
            if (id is null)
            {
                writer.WriteNull("id");
            }
            else
            {
                writer.WriteString("id", id);
            }

            writer.WritePropertyName("event");
            if (IsOneJsonValue(received))
            {
                writer.WriteRawValue(received, skipInputValidation: true);
            }
            else
            {
                writer.WriteStringValue(Encoding.UTF8.GetString(received));
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static FeedBodyFormat? FormatOf(string contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
        {
            return null;
        }

        if (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            return FeedBodyFormat.Json;
        }

        return type.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase) || type.Equals("application/ndjson", StringComparison.OrdinalIgnoreCase)
            ? FeedBodyFormat.Ndjson
            : null;
    }

    /// <summary>Whether the first non-blank line is a JSON value by itself (NDJSON), not the start of one spread over lines.</summary>
    private static bool FirstLineIsJsonValue(ReadOnlySpan<byte> body)
    {
        var rest = body;
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            if (!IsBlank(line))
            {
                return !rest.IsEmpty && IsOneJsonValue(line);
            }
        }

        return false;
    }

    /// <summary>Exactly one well-formed JSON value, with valid UTF-8 and no lone surrogates in its strings.</summary>
    private static bool IsOneJsonValue(ReadOnlySpan<byte> text)
    {
        try
        {
            var reader = new Utf8JsonReader(text, ReaderOptions);
            if (!reader.Read())
            {
                return false;
            }

            reader.Skip();
            if (reader.Read())
            {
                return false;
            }

            using var document = JsonDocument.Parse(text.ToArray());
            return JsonStrings.AreValid(document.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static Range Trim(ReadOnlySpan<byte> body, int start, int stop)
    {
        while (start < stop && body[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }

        while (stop > start && body[stop - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            stop--;
        }

        return start..stop;
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }
}
