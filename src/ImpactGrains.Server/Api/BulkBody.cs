using System.Buffers;
using System.Text.Json;
using ImpactGrains.Scoring.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace ImpactGrains.Server.Api;

/// <summary>One item of a bulk request: its position in the body, and the object or why it could not be read.</summary>
public readonly record struct BulkItem(int Index, JsonElement? Value, string? Error);

/// <param name="Index">The item's 0-based position in the body (for NDJSON, among its non-blank lines).</param>
public sealed record BulkRejection(int Index, string? Id, string Error);

/// <summary>The answer to a bulk registration: how many items were applied (created, changed or already so), and the rest.</summary>
public sealed record BulkResult(int Upserted, IReadOnlyList<BulkRejection> Rejected);

/// <summary>
/// Reads the body of a bulk request (PUT /api/entities, PUT /api/links with many): a JSON array of objects, or NDJSON
/// with one object per line. Each item is judged on its own; only a body that cannot be read at all, or is too large,
/// is refused whole.
/// </summary>
internal static class BulkBody
{
    public static async Task<(IReadOnlyList<BulkItem>? Items, ProblemHttpResult? Problem)> ReadAsync(
        HttpRequest request, long maxBytes, int maxItems, CancellationToken cancellationToken)
    {
        var ndjson = MediaTypeHeaderValue.TryParse(request.ContentType, out var media) &&
                     (media.MediaType.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase) ||
                      media.MediaType.Equals("application/ndjson", StringComparison.OrdinalIgnoreCase));
        var json = !ndjson && media is not null &&
                   (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        if (!ndjson && !json)
        {
            return (null, Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                "send a JSON array (application/json) or one object per line (application/x-ndjson)"));
        }

        var tooLarge = Problems.Status(StatusCodes.Status413PayloadTooLarge, "Request body too large",
            $"a request may carry at most {maxBytes} bytes and {maxItems} items; split it");
        if (request.ContentLength > maxBytes)
        {
            return (null, tooLarge);
        }

        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.GetMemory(64 * 1024), cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                return (null, tooLarge);
            }
        }

        var items = new List<BulkItem>();
        if (json)
        {
            try
            {
                using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = 32 });
                if (document.RootElement.ValueKind != JsonValueKind.Array)
                {
                    return (null, Problems.BadRequest("the body must be a JSON array of objects (or NDJSON, one object per line)"));
                }

                if (document.RootElement.GetArrayLength() > maxItems)
                {
                    return (null, tooLarge);
                }

                foreach (var element in document.RootElement.EnumerateArray())
                {
                    items.Add(Item(items.Count, element.Clone()));
                }
            }
            catch (JsonException ex)
            {
                return (null, Problems.BadRequest($"the body is not valid JSON: {ex.Message}"));
            }

            return (items, null);
        }

        var rest = buffer.WrittenMemory;
        while (!rest.IsEmpty)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (line.Span.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }

            if (items.Count == maxItems)
            {
                return (null, tooLarge);
            }

            try
            {
                using var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 32 });
                items.Add(Item(items.Count, document.RootElement.Clone()));
            }
            catch (JsonException ex)
            {
                items.Add(new BulkItem(items.Count, null, $"the line is not valid JSON: {ex.Message}"));
            }
        }

        return (items, null);
    }

    private static BulkItem Item(int index, JsonElement element) =>
        element.ValueKind != JsonValueKind.Object ? new BulkItem(index, null, "each item must be a JSON object")
        : !JsonStrings.AreValid(element) ? new BulkItem(index, null, $"the item is not valid JSON: {JsonStrings.Problem}")
        : new BulkItem(index, element, null);

    /// <summary>The item's "id" (or another named field) where it can be read, so that a rejection can name it.</summary>
    public static string? TextOf(JsonElement? item, string name) =>
        item is { } e && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Tells the grains of changed entities to reload, a bounded number at a time.</summary>
    public static Task ReloadAsync(IGrainFactory grains, IEnumerable<string> entities) =>
        Parallel.ForEachAsync(entities.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = 64 },
            async (id, _) => await grains.GetGrain<Abstractions.IEntityGrain>(id).ReloadAsync());
}
