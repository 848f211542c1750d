using System.Buffers;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;
using Microsoft.Net.Http.Headers;

namespace ImpactGrains.Server.Ingestion;

/// <summary>Why a whole request body was refused: nothing in it is stored.</summary>
public sealed record BodyRefusal(int StatusCode, string Title, string Detail);

/// <summary>
/// The HTTP edge of POST /api/events: the media type, the size limits, and the body's bytes, read into a pooled
/// buffer and handed to <see cref="EventBatchReader"/> (one JSON object, a JSON array, or NDJSON). Each event is judged
/// on its own; only a body that cannot be read at all, or is too large, is refused whole.
/// </summary>
public static class EventBodyReader
{
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

        // A request body of 1,000 events is about 250 KB: renting it spares a large-object-heap array per request.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 64 * 1024, limits.MaxBodyBytes) + 1);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limits.MaxBodyBytes)
                    {
                        return (null, TooLarge(limits));
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limits.MaxBodyBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limits.MaxBodyBytes)
                {
                    return (null, TooLarge(limits));
                }
            }

            var body = buffer.AsSpan(0, length);
            var batch = format == BodyFormat.Json
                ? EventBatchReader.ReadJson(body, limits.MaxEventsPerRequest, latestAllowed)
                : EventBatchReader.ReadNdjson(body, limits.MaxEventsPerRequest, latestAllowed);
            return batch.Problem switch
            {
                null => (batch.Events, null),
                { Kind: BatchProblemKind.TooMany } => (null, TooLarge(limits)),
                { Kind: BatchProblemKind.WrongShape } problem => (null, new BodyRefusal(StatusCodes.Status400BadRequest, "Malformed request", problem.Detail)),
                { } problem => (null, new BodyRefusal(StatusCodes.Status400BadRequest, "Malformed JSON", problem.Detail)),
            };
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
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
}
