using System.Net;
using System.Text.Json;
using ImpactGrains.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace ImpactGrains.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class OpenApiTests(ServerFixture fixture)
{
    private async Task<JsonElement> DocumentAsync() => await fixture.Http.GetJsonAsync(OpenApiSetup.DocumentPath);

    /// <summary>The routes the real host maps (built, not started), as "METHOD /path".</summary>
    private static List<string> MappedRoutes()
    {
        var directory = Path.Combine(Path.GetTempPath(), "impactgrains-tests", Guid.NewGuid().ToString("N"));
        var builder = WebApplication.CreateBuilder([$"--Impact:DataDirectory={directory}", "--Impact:Demo=false"]);
        builder.AddImpactGrains();
        var app = builder.Build();
        app.MapImpactApi();
        return ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(d => d.Endpoints)
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true &&
                        !e.RoutePattern.RawText.StartsWith("/api/docs", StringComparison.Ordinal)) // the reference UI's own files
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .Distinct()
            .Order()
            .ToList();
    }

    [Fact]
    public async Task Every_mapped_route_is_in_the_document_with_its_error_shape()
    {
        var document = await DocumentAsync();
        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}"))
            .Order()
            .ToList();

        var mapped = MappedRoutes();
        Assert.True(mapped.Count >= 25, $"only {mapped.Count} routes found");
        Assert.Equal(mapped, documented);

        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var problem = operation.Value.GetProperty("responses").GetProperty("default").GetProperty("content");
                Assert.True(problem.TryGetProperty("application/problem+json", out _), $"{operation.Name} {path.Name} has no problem shape");
            }
        }
    }

    [Fact]
    public async Task The_documented_event_examples_are_accepted_by_the_real_endpoint()
    {
        var document = await DocumentAsync();
        var content = document.GetProperty("paths").GetProperty("/api/events").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        Assert.True(content.TryGetProperty("application/x-ndjson", out _));
        var examples = content.GetProperty("application/json").GetProperty("examples").EnumerateObject().ToList();
        Assert.Equal(9, examples.Count); // one per event type

        foreach (var entity in examples.Select(e => e.Value.GetProperty("value").GetProperty("entity").GetString()!).Distinct())
        {
            await fixture.Http.RegisterAsync(entity);
        }

        foreach (var example in examples)
        {
            var response = await fixture.Http.PostJsonAsync("/api/events", example.Value.GetProperty("value").GetRawText());
            var result = await response.JsonAsync(HttpStatusCode.OK);
            Assert.Equal(0, result.GetProperty("rejected").GetArrayLength());
            Assert.Equal(1, result.GetProperty("accepted").GetInt32() + result.GetProperty("duplicates").GetInt32());
        }
    }

    [Fact]
    public async Task The_reference_ui_is_served_at_api_docs()
    {
        var response = await fixture.Http.GetAsync("/api/docs/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(OpenApiSetup.DocumentPath.TrimStart('/'), await response.Content.ReadAsStringAsync());
    }
}
