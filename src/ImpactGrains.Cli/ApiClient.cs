using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImpactGrains.Cli;

/// <summary>A thin HTTP client for the API: JSON in and out, problem+json answers turned into <see cref="ApiException"/>.</summary>
public sealed class ApiClient : IDisposable
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    private readonly HttpClient http;

    public ApiClient(Uri baseAddress, string? apiKey, TimeSpan? timeout = null)
    {
        BaseAddress = baseAddress;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.All,
        };
        http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(100) };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("impact-cli", typeof(ApiClient).Assembly.GetName().Version?.ToString(3) ?? "1.0"));
        if (!string.IsNullOrEmpty(apiKey))
        {
            http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
    }

    public Uri BaseAddress { get; }

    public HttpClient Http => http;

    /// <summary>Parses and checks <c>--url</c>: an absolute http or https URL.</summary>
    public static Uri ParseBaseAddress(string text)
    {
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new UsageException($"--url: '{text}' is not an absolute http or https URL, such as {DefaultUrl}");
        }

        // Relative paths resolve under the given base, so keep a trailing slash.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
    }

    public static string Path(string format, params string[] segments) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, format, segments.Select(s => (object)Uri.EscapeDataString(s)).ToArray());

    public static string Query(string path, params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).ToArray();
        return given.Length == 0
            ? path
            : path + "?" + string.Join('&', given.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}"));
    }

    public async Task<JsonElement> GetJsonAsync(string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, relative);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var (_, body) = await SendForJsonAsync(request, cancellationToken);
        return body;
    }

    /// <summary>Sends a JSON body; returns the status code and the JSON answer (an undefined element for no content).</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> SendJsonAsync(HttpMethod method, string relative, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, relative);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return await SendForJsonAsync(request, cancellationToken);
    }

    private async Task<(HttpStatusCode, JsonElement)> SendForJsonAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, cancellationToken);
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return (response.StatusCode, default);
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return (response.StatusCode, document.RootElement.Clone());
        }
        catch (JsonException)
        {
            throw new CliFailure($"{request.Method} {request.RequestUri}: the server answered {(int)response.StatusCode} with a body that is not JSON");
        }
    }

    /// <summary>Sends a request, turning network failures and timeouts into one-line <see cref="CliFailure"/>s.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliFailure($"cannot reach {BaseAddress.GetLeftPart(UriPartial.Authority)}: {Describe(e)}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliFailure($"{request.Method} {request.RequestUri}: no answer within {http.Timeout.TotalSeconds:0} s");
        }
    }

    public static string Describe(HttpRequestException e)
    {
        var inner = e.InnerException?.Message;
        return string.IsNullOrEmpty(inner) || e.Message.Contains(inner, StringComparison.Ordinal) ? e.Message : $"{e.Message} {inner}";
    }

    /// <summary>The error of a non-success answer: the problem's title and detail, or the status line.</summary>
    public static async Task<ApiException> ErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
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
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String)
                {
                    var detail = root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                    return new ApiException(status, $"{title.GetString()} (HTTP {status})", detail);
                }
            }
            catch (JsonException)
            {
                // not problem+json
            }
        }

        var reason = string.IsNullOrEmpty(response.ReasonPhrase) ? ((HttpStatusCode)status).ToString() : response.ReasonPhrase;
        var snippet = string.IsNullOrWhiteSpace(text) ? null : CliEnvironment.OneLine(text.Length > 200 ? text[..200] + "…" : text);
        return new ApiException(status, $"HTTP {status} {reason}", snippet);
    }

    /// <summary>How long a 429 or 503 answer asks to wait, if it says.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
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

    public void Dispose() => http.Dispose();
}
