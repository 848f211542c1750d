using System.Text.Json;

namespace ImpactGrains.Scoring.Validation;

/// <summary>Why a whole body of events was refused: nothing in it is stored.</summary>
public enum BatchProblemKind
{
    /// <summary>The text is not JSON.</summary>
    Malformed,

    /// <summary>JSON, but neither one event (an object) nor an array of events.</summary>
    WrongShape,

    /// <summary>More events than one body may carry.</summary>
    TooMany,
}

public sealed record BatchProblem(BatchProblemKind Kind, string Detail);

/// <summary>The events of one body, each judged on its own, or the reason the whole body was refused.</summary>
public readonly record struct EventBatch(IReadOnlyList<EventParseResult>? Events, BatchProblem? Problem);

/// <summary>
/// Reads a body of events, one JSON object, a JSON array of them, or NDJSON (one per line), straight from its UTF-8
/// bytes. Each event is judged on its own, exactly as <see cref="EventJson.Parse"/> judges it: a well-formed event takes
/// <see cref="EventFastReader"/>'s path (no document, no strings that are not kept); anything unusual (an escape, text
/// that is not ASCII, a duplicate or unknown data field, any invalid value) is read again by
/// <see cref="EventJson.Parse"/>, which gives the same answer for every event the fast path accepts and the exact error
/// for the others.
/// </summary>
public static class EventBatchReader
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>A JSON body: one event object or an array of events.</summary>
    public static EventBatch ReadJson(ReadOnlySpan<byte> body, int maxEvents, DateTimeOffset latestAllowed)
    {
        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                return Malformed(DescribeMalformed(body));
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                {
                    var result = ReadEvent(ref reader, body, latestAllowed);
                    return reader.Read() ? throw new JsonException("more than one value") : new EventBatch([result], null);
                }

                case JsonTokenType.StartArray:
                {
                    // Sized from the body (an event takes well over 100 bytes of JSON) rather than grown by doubling.
                    var results = new List<EventParseResult>(Math.Min(maxEvents, body.Length / 100 + 1));
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (results.Count == maxEvents)
                        {
                            // Still a whole-body check: a malformed tail answers 400, as a document parser would.
                            reader.Skip();
                            while (reader.Read())
                            {
                                reader.Skip();
                            }

                            return new EventBatch(null, new BatchProblem(BatchProblemKind.TooMany, ""));
                        }

                        results.Add(reader.TokenType == JsonTokenType.StartObject
                            ? ReadEvent(ref reader, body, latestAllowed)
                            : ReadOther(ref reader, body, latestAllowed));
                    }

                    while (reader.Read())
                    {
                        // Anything after the array makes the body invalid JSON; Read throws on it.
                    }

                    return new EventBatch(results, null);
                }

                default:
                    reader.Skip();
                    while (reader.Read())
                    {
                    }

                    return new EventBatch(null, new BatchProblem(BatchProblemKind.WrongShape, "the body must be one event (a JSON object) or a JSON array of events"));
            }
        }
        catch (JsonException)
        {
            return Malformed(DescribeMalformed(body));
        }
    }

    /// <summary>An NDJSON body: one event per line; blank lines are skipped, and a line that is not JSON rejects only itself.</summary>
    public static EventBatch ReadNdjson(ReadOnlySpan<byte> body, int maxEvents, DateTimeOffset latestAllowed)
    {
        var results = new List<EventParseResult>();
        var rest = body;
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            if (IsBlank(line))
            {
                continue;
            }

            if (results.Count == maxEvents)
            {
                return new EventBatch(null, new BatchProblem(BatchProblemKind.TooMany, ""));
            }

            results.Add(ReadLine(line, latestAllowed));
        }

        return new EventBatch(results, null);
    }

    private static EventParseResult ReadLine(ReadOnlySpan<byte> line, DateTimeOffset latestAllowed)
    {
        var reader = new Utf8JsonReader(line, ReaderOptions);
        try
        {
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject &&
                EventFastReader.TryRead(ref reader, latestAllowed, out var fast) && !reader.Read())
            {
                return new EventParseResult(fast, fast.Id, null);
            }
        }
        catch (JsonException)
        {
            // The slow path below gives the line's exact error.
        }

        return Slow(line, latestAllowed, "the line is not valid JSON: ");
    }

    /// <summary>An array element that is an object: the fast path, or the exact slow path on that element's bytes.</summary>
    private static EventParseResult ReadEvent(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, DateTimeOffset latestAllowed)
    {
        var saved = reader;
        if (EventFastReader.TryRead(ref reader, latestAllowed, out var fast))
        {
            return new EventParseResult(fast, fast.Id, null);
        }

        reader = saved;
        return ReadOther(ref reader, body, latestAllowed);
    }

    private static EventParseResult ReadOther(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, DateTimeOffset latestAllowed)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        var element = body[start..(int)reader.BytesConsumed];
        return Slow(element, latestAllowed, "the event is not valid JSON: ");
    }

    private static EventParseResult Slow(ReadOnlySpan<byte> json, DateTimeOffset latestAllowed, string notJson)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), DocumentOptions);
            return JsonStrings.AreValid(document.RootElement)
                ? EventJson.Parse(document.RootElement, latestAllowed)
                : EventParseResult.Fail(null, $"the event is not valid JSON: {JsonStrings.Problem}");
        }
        catch (JsonException ex)
        {
            return EventParseResult.Fail(null, notJson + ex.Message);
        }
    }

    private static EventBatch Malformed(string detail) => new(null, new BatchProblem(BatchProblemKind.Malformed, detail));

    /// <summary>The document parser's own message for a malformed body, as the API has always given it.</summary>
    private static string DescribeMalformed(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToArray(), DocumentOptions);
            return "the body is not valid JSON";
        }
        catch (JsonException ex)
        {
            return $"the body is not valid JSON: {ex.Message}";
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
            {
                return false;
            }
        }

        return true;
    }
}
