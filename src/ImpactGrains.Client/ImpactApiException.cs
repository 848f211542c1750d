using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ImpactGrains.Client;

/// <summary>
/// An error answer of the API. The server answers every error as RFC 9457 problem+json; its status, title, detail
/// and the rejected fields are here. <see cref="Exception.Message"/> reads <c>Title (HTTP status): detail</c>, such as
/// <c>Unknown entity (HTTP 404): there is no entity 'nobody'</c>.
/// </summary>
public sealed partial class ImpactApiException : Exception
{
    /// <summary>Creates the exception of one error answer.</summary>
    public ImpactApiException(int status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors = null, string? type = null,
        string? traceId = null, TimeSpan? retryAfter = null, bool isProblem = true)
        : base(Describe(status, title, detail, isProblem))
    {
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors ?? new Dictionary<string, string[]>();
        Type = type;
        TraceId = traceId;
        RetryAfter = retryAfter;
        IsProblem = isProblem;
    }

    /// <summary>The HTTP status code.</summary>
    public int Status { get; }

    /// <summary>The problem's title (Invalid request, Unknown entity, …), or the status line when the answer was not problem+json.</summary>
    public string Title { get; }

    /// <summary>What went wrong; for invalid input it names the field and the rule.</summary>
    public string? Detail { get; }

    /// <summary>The rejected fields and why, by field path (<c>kind</c>, <c>members[1].weight</c>, <c>types.outage.halfLife</c>).</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>The problem's type URI.</summary>
    public string? Type { get; }

    /// <summary>The server's trace id of the request, to find it in the server's logs.</summary>
    public string? TraceId { get; }

    /// <summary>How long the server asked to wait (429 and 503), if it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Whether the answer was problem+json (false for a proxy's or a bare server's error page).</summary>
    public bool IsProblem { get; }

    /// <summary>A problem's title with its status; an answer that was not problem+json has its status line as title already.</summary>
    private static string Describe(int status, string title, string? detail, bool isProblem)
    {
        var head = isProblem ? $"{title} (HTTP {status})" : title;
        return string.IsNullOrEmpty(detail) ? head : $"{head}: {detail}";
    }

    /// <summary>Reads the error of a non-success answer.</summary>
    public static async Task<ImpactApiException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        var status = (int)response.StatusCode;
        var retryAfter = RetryAfterOf(response.Headers.RetryAfter);
        string? text = null;
        try
        {
            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            // no body to show
        }

        if (!string.IsNullOrWhiteSpace(text))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("title", out var titleElement) && titleElement.ValueKind == JsonValueKind.String)
                {
                    var detail = String(root, "detail");
                    return new ImpactApiException(status, titleElement.GetString()!, detail, ErrorsOf(root, detail), String(root, "type"), String(root, "traceId"), retryAfter);
                }
            }
            catch (JsonException)
            {
                // not problem+json
            }
        }

        var reason = string.IsNullOrEmpty(response.ReasonPhrase) ? ((HttpStatusCode)status).ToString() : response.ReasonPhrase;
        var snippet = string.IsNullOrWhiteSpace(text) ? null : OneLine(text.Length > 200 ? text[..200] + "…" : text);
        return new ImpactApiException(status, $"HTTP {status} {reason}", snippet, retryAfter: retryAfter, isProblem: false);
    }

    /// <summary>The wait a Retry-After header asks for, never negative.</summary>
    internal static TimeSpan? RetryAfterOf(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// The problem's <c>errors</c> member (field → messages), or else the fields its detail names: the API writes
    /// invalid input as <c>field: rule</c>, several joined by <c>; </c>.
    /// </summary>
    private static Dictionary<string, string[]> ErrorsOf(JsonElement root, string? detail)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (root.TryGetProperty("errors", out var member) && member.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in member.EnumerateObject())
            {
                errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                    ? field.Value.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray()
                    : field.Value.ValueKind == JsonValueKind.String ? [field.Value.GetString()!] : [];
            }

            return errors;
        }

        if (detail is null)
        {
            return errors;
        }

        foreach (var part in detail.Split("; ", StringSplitOptions.RemoveEmptyEntries))
        {
            if (FieldRule().Match(part) is { Success: true } match)
            {
                foreach (var field in match.Groups["fields"].Value.Split(", "))
                {
                    errors[field] = [.. errors.GetValueOrDefault(field, []), match.Groups["rule"].Value];
                }
            }
        }

        return errors;
    }

    [GeneratedRegex(@"^(?<fields>[A-Za-z][\w.\[\]-]*(?:, [A-Za-z][\w.\[\]-]*)*): (?<rule>.+)$", RegexOptions.Singleline)]
    private static partial Regex FieldRule();

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
