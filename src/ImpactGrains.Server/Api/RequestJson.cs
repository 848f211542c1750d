using System.Text.Json;
using ImpactGrains.Scoring.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace ImpactGrains.Server.Api;

/// <summary>Reads small JSON request bodies (entities, links) with a size limit and clear errors.</summary>
internal static class RequestJson
{
    public const int MaxBytes = 64 * 1024;

    public static async Task<(JsonDocument? Document, ProblemHttpResult? Problem)> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var media) ||
            !(media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
              media.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return (null, Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "send the body as application/json"));
        }

        if (request.ContentLength > MaxBytes)
        {
            return (null, Problems.Status(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"the body may be at most {MaxBytes} bytes"));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes)
            {
                return (null, Problems.Status(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"the body may be at most {MaxBytes} bytes"));
            }
        }

        try
        {
            var document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), new JsonDocumentOptions { MaxDepth = 32 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                return (null, Problems.BadRequest("the body must be a JSON object"));
            }

            if (!JsonStrings.AreValid(document.RootElement))
            {
                document.Dispose();
                return (null, Problems.BadRequest($"the body is not valid JSON: {JsonStrings.Problem}"));
            }

            return (document, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest($"the body is not valid JSON: {ex.Message}"));
        }
    }

    /// <summary>A property that must be a string within a length; null with an error otherwise.</summary>
    public static string? RequiredString(JsonElement body, string name, int maxLength, out string? error)
    {
        error = null;
        if (body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String &&
            value.GetString() is { Length: > 0 } text && text.Length <= maxLength && !text.Any(char.IsControl))
        {
            return text;
        }

        error = $"{name}: required string of 1–{maxLength} characters without control characters";
        return null;
    }
}
