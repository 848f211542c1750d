using System.Buffers;
using System.Text.Json;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Api;
using ImpactGrains.Server.Hosting;
using Microsoft.Net.Http.Headers;

namespace ImpactGrains.Server.Ingestion;

/// <summary>Why a whole request body was refused: nothing in it is stored.</summary>
public sealed record BodyRefusal(int StatusCode, string Title, string Detail);

/// <summary>
/// Reads the events in a POST /api/events body: one JSON object, a JSON array, or NDJSON. Each event is judged on its
/// own; only a body that cannot be read at all, or is too large, is refused whole.
/// </summary>
public static class EventBodyReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static async Task<(IReadOnlyList<EventParseResult>? Events, BodyRefusal? Refusal)> ReadAsync(
        HttpRequest request, IngestionOptions limits, DateTimeOffset latestAllowed, CancellationToken cancellationToken)
    {
        var format = FormatOf(request.ContentType);
        if (format is null)
        {
            return (null, new BodyRefusal(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                "send events as application/json (one event or an array) or application/x-ndjson (one event per line)"));
        }

        if (request.ContentLength > limits.MaxBodyBytes)
        {
            return (null, TooLarge(limits));
        }

        var body = await ReadBoundedAsync(request.Body, limits.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return (null, TooLarge(limits));
        }

        return format == BodyFormat.Json
            ? ReadJson(body, limits, latestAllowed)
            : ReadNdjson(body, limits, latestAllowed);
    }

    private enum BodyFormat
    {
        Json,
        Ndjson,
    }

    private static BodyFormat? FormatOf(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
        {
            return null;
        }

        if (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            return BodyFormat.Json;
        }

        return type.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase) || type.Equals("application/ndjson", StringComparison.OrdinalIgnoreCase)
            ? BodyFormat.Ndjson
            : null;
    }

    private static BodyRefusal TooLarge(IngestionOptions limits) =>
        new(StatusCodes.Status413PayloadTooLarge, "Request body too large",
            $"a request may carry at most {limits.MaxBodyBytes} bytes and {limits.MaxEventsPerRequest} events; split the batch");

    private static async Task<byte[]?> ReadBoundedAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        while (true)
        {
            var memory = buffer.GetMemory(64 * 1024);
            var read = await body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                return null;
            }
        }
    }

    private static (IReadOnlyList<EventParseResult>?, BodyRefusal?) ReadJson(byte[] body, IngestionOptions limits, DateTimeOffset latestAllowed)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return (null, new BodyRefusal(StatusCodes.Status400BadRequest, "Malformed JSON", $"the body is not valid JSON: {ex.Message}"));
        }

        using (document)
        {
            var root = document.RootElement;
            switch (root.ValueKind)
            {
                case JsonValueKind.Object:
                    return ([ParseEvent(root, latestAllowed)], null);
                case JsonValueKind.Array:
                    if (root.GetArrayLength() > limits.MaxEventsPerRequest)
                    {
                        return (null, TooLarge(limits));
                    }

                    return (root.EnumerateArray().Select(e => ParseEvent(e, latestAllowed)).ToList(), null);
                default:
                    return (null, new BodyRefusal(StatusCodes.Status400BadRequest, "Malformed request",
                        "the body must be one event (a JSON object) or a JSON array of events"));
            }
        }
    }

    private static (IReadOnlyList<EventParseResult>?, BodyRefusal?) ReadNdjson(byte[] body, IngestionOptions limits, DateTimeOffset latestAllowed)
    {
        var results = new List<EventParseResult>();
        var rest = body.AsMemory();
        while (!rest.IsEmpty)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? Memory<byte>.Empty : rest[(end + 1)..];
            if (IsBlank(line.Span))
            {
                continue;
            }

            if (results.Count == limits.MaxEventsPerRequest)
            {
                return (null, TooLarge(limits));
            }

            try
            {
                using var document = JsonDocument.Parse(line, DocumentOptions);
                results.Add(ParseEvent(document.RootElement, latestAllowed));
            }
            catch (JsonException ex)
            {
                // A broken line is refused on its own; the other lines go on.
                results.Add(EventParseResult.Fail(null, $"the line is not valid JSON: {ex.Message}"));
            }
        }

        return (results, null);
    }

    /// <summary>One event; text that is not valid Unicode rejects that event only, like any other invalid field.</summary>
    private static EventParseResult ParseEvent(JsonElement element, DateTimeOffset latestAllowed) =>
        JsonStrings.AreValid(element)
            ? EventJson.Parse(element, latestAllowed)
            : EventParseResult.Fail(null, $"the event is not valid JSON: {JsonStrings.Problem}");

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
