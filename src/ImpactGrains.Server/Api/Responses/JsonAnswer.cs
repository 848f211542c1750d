using System.Reflection;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Metadata;

namespace ImpactGrains.Server.Api.Responses;

/// <summary>
/// A 200 with a JSON body written by its source-generated <see cref="JsonTypeInfo{T}"/> straight to the response's
/// pipe (UTF-8, no intermediate string), or the same body already serialized (<see cref="LiveLeaderboard"/>), with
/// optional <c>ETag</c> and <c>Cache-Control</c>; or a 304 when the request's <c>If-None-Match</c> names the tag.
/// It declares 200 with <typeparamref name="T"/> for OpenAPI, as <c>Ok&lt;T&gt;</c> does.
/// </summary>
public sealed class JsonAnswer<T> : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult
{
    private const string ContentType = "application/json; charset=utf-8";
    private readonly T? value;
    private readonly JsonTypeInfo<T>? typeInfo;
    private readonly ReadOnlyMemory<byte> utf8;
    private readonly string? etag;
    private readonly string? cacheControl;

    private JsonAnswer(int status, T? value, JsonTypeInfo<T>? typeInfo, ReadOnlyMemory<byte> utf8, string? etag, string? cacheControl)
    {
        StatusCode = status;
        this.value = value;
        this.typeInfo = typeInfo;
        this.utf8 = utf8;
        this.etag = etag;
        this.cacheControl = cacheControl;
    }

    public int? StatusCode { get; }

    public static JsonAnswer<T> Ok(T value, JsonTypeInfo<T> typeInfo, string? etag = null, string? cacheControl = null) =>
        new(StatusCodes.Status200OK, value, typeInfo, default, etag, cacheControl);

    public static JsonAnswer<T> Ok(ReadOnlyMemory<byte> utf8, string? etag = null, string? cacheControl = null) =>
        new(StatusCodes.Status200OK, default, null, utf8, etag, cacheControl);

    public static JsonAnswer<T> NotModified(string etag, string? cacheControl = null) =>
        new(StatusCodes.Status304NotModified, default, null, default, etag, cacheControl);

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode!.Value;
        if (etag is not null)
        {
            response.Headers.ETag = etag;
        }

        if (cacheControl is not null)
        {
            response.Headers.CacheControl = cacheControl;
        }

        if (StatusCode == StatusCodes.Status304NotModified)
        {
            return Task.CompletedTask;
        }

        // Answers are small (under a few KB): serialized at once, they go out with a Content-Length in one write,
        // without the serializer's asynchronous flushing and chunked framing.
        var body = typeInfo is not null ? System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value!, typeInfo) : utf8;
        response.ContentType = ContentType;
        response.ContentLength = body.Length;
        return response.BodyWriter.WriteAsync(body, httpContext.RequestAborted).AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));

    /// <summary>Whether the request's <c>If-None-Match</c> names <paramref name="etag"/> (or is <c>*</c>).</summary>
    public static bool Matches(HttpRequest request, string etag)
    {
        foreach (var header in request.Headers.IfNoneMatch)
        {
            foreach (var part in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                // Weak comparison, as RFC 9110 asks of If-None-Match: W/"x" matches "x".
                if (part == "*" || part == etag || (part.StartsWith("W/", StringComparison.Ordinal) && part.AsSpan(2).SequenceEqual(etag)))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
