using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Security;
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

    /// <summary>The repository's root folder (where ImpactGrains.sln is).</summary>
    internal static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ImpactGrains.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("ImpactGrains.sln was not found above " + AppContext.BaseDirectory);
        }
    }

    private static string CommittedDocumentPath => Path.Combine(RepositoryRoot, "docs", "openapi.json");

    [Fact]
    public async Task The_document_in_docs_is_the_one_the_running_server_serves()
    {
        var served = JsonNode.Parse(await fixture.Http.GetStringAsync(OpenApiSetup.DocumentPath))!;
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(CommittedDocumentPath))!;

        var difference = FirstDifference(served, committed, "$");
        Assert.True(difference is null,
            $"docs/openapi.json differs from what the server serves at {difference}; the server's build writes it " +
            "(dotnet build src/ImpactGrains.Server), so rebuild and commit the new document");
    }

    /// <summary>The JSON path of the first place where two documents differ, or null when they are equal.</summary>
    private static string? FirstDifference(JsonNode? a, JsonNode? b, string path)
    {
        switch (a, b)
        {
            case (JsonObject x, JsonObject y):
                foreach (var key in x.Select(p => p.Key).Union(y.Select(p => p.Key)))
                {
                    if (!x.ContainsKey(key) || !y.ContainsKey(key))
                    {
                        return $"{path}.{key} (only in the {(x.ContainsKey(key) ? "served" : "committed")} one)";
                    }

                    if (FirstDifference(x[key], y[key], $"{path}.{key}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case (JsonArray x, JsonArray y):
                if (x.Count != y.Count)
                {
                    return $"{path} ({x.Count} items served, {y.Count} committed)";
                }

                for (var i = 0; i < x.Count; i++)
                {
                    if (FirstDifference(x[i], y[i], $"{path}[{i}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return JsonNode.DeepEquals(a, b) ? null : $"{path} ({a?.ToJsonString()} served, {b?.ToJsonString()} committed)";
        }
    }

    [Fact]
    public async Task Every_operation_has_an_id_a_summary_its_role_and_its_4xx_answers()
    {
        var document = await DocumentAsync();
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-Api-Key", schemes.GetProperty(OpenApiSetup.ApiKeyScheme).GetProperty("name").GetString());
        Assert.Equal("bearer", schemes.GetProperty(OpenApiSetup.BearerScheme).GetProperty("scheme").GetString());

        var ids = new HashSet<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var where = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                var op = operation.Value;
                var id = op.TryGetProperty("operationId", out var idElement) ? idElement.GetString() : null;
                Assert.False(string.IsNullOrEmpty(id), $"{where} has no operationId");
                Assert.True(ids.Add(id!), $"{where}: operationId {id} is used twice");
                Assert.False(string.IsNullOrWhiteSpace(op.TryGetProperty("summary", out var summary) ? summary.GetString() : null), $"{where} has no summary");
                Assert.True(op.TryGetProperty("tags", out var tags) && tags.GetArrayLength() == 1, $"{where} has no tag");

                // The role the server enforces for this route (ApiRoles decides it) is the one the document declares.
                var role = ApiRoles.Describe(ApiRoles.For([operation.Name.ToUpperInvariant()], path.Name));
                Assert.Equal(role, op.GetProperty("x-required-role").GetString());
                var security = op.GetProperty("security").EnumerateArray().ToList();
                Assert.Contains(security, r => r.TryGetProperty(OpenApiSetup.ApiKeyScheme, out var roles) && roles.EnumerateArray().Single().GetString() == role);
                Assert.Contains(security, r => r.TryGetProperty(OpenApiSetup.BearerScheme, out var roles) && roles.EnumerateArray().Single().GetString() == role);

                var responses = op.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
                Assert.Contains(responses, r => r.StartsWith('2'));
                foreach (var status in new[] { "401", "403", "429" })
                {
                    Assert.Contains(status, responses);
                }
            }
        }

        Assert.Equal(document.GetProperty("paths").EnumerateObject().Sum(p => p.Value.EnumerateObject().Count()), ids.Count);
    }

    [Fact]
    public async Task Every_operation_declares_the_errors_its_endpoint_gives()
    {
        var document = await DocumentAsync();
        var paths = document.GetProperty("paths");
        string[] Responses(string path, string method) => paths.GetProperty(path).GetProperty(method).GetProperty("responses").EnumerateObject().Select(r => r.Name).ToArray();

        // Spot checks against docs/api.md: an unknown entity is a 404, a bad body a 400, a wrong media type a 415.
        Assert.Contains("404", Responses("/api/entities/{id}/impact", "get"));
        Assert.Contains("400", Responses("/api/entities/{id}/impact", "get"));
        Assert.Contains("415", Responses("/api/events", "post"));
        Assert.Contains("413", Responses("/api/events", "post"));
        Assert.Contains("409", Responses("/api/admin/models", "post"));
        Assert.Contains("404", Responses("/api/links", "delete"));
        Assert.Contains("text/event-stream", paths.GetProperty("/api/stream").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content")
            .EnumerateObject().Select(c => c.Name));
    }

    [Fact]
    public async Task The_document_passes_Redocly_CLIs_recommended_rules_with_no_error()
    {
        var lint = Path.Combine(RepositoryRoot, "tests", "ImpactGrains.Server.Tests", "openapi-lint");
        await NpmCiAsync(lint);

        var (exitCode, output) = await RunAsync("node", lint, Path.Combine("node_modules", "@redocly", "cli", "bin", "cli.js"), "lint", CommittedDocumentPath,
            "--config", "redocly.yaml", "--format", "stylish");

        // Redocly exits 1 on any error (warnings alone exit 0) and says how many it found.
        Assert.True(exitCode == 0, $"redocly lint failed ({exitCode}):\n{output}");
        Assert.DoesNotContain("Validation failed", output);
    }

    private static readonly SemaphoreSlim NpmLock = new(1, 1);

    /// <summary>`npm ci` in the lint folder when its node_modules is missing or older than the lock file.</summary>
    private static async Task NpmCiAsync(string directory)
    {
        await NpmLock.WaitAsync();
        try
        {
            var stamp = Path.Combine(directory, "node_modules", ".package-lock.json");
            if (File.Exists(stamp) && File.GetLastWriteTimeUtc(stamp) >= File.GetLastWriteTimeUtc(Path.Combine(directory, "package-lock.json")))
            {
                return;
            }

            var (exitCode, output) = await RunAsync("npm", directory, "ci", "--no-audit", "--no-fund", "--loglevel=error");
            Assert.True(exitCode == 0, $"npm ci in {directory} failed ({exitCode}):\n{output}");
            File.SetLastWriteTimeUtc(stamp, DateTime.UtcNow);
        }
        finally
        {
            NpmLock.Release();
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string directory, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["NO_COLOR"] = "1";
        info.Environment["REDOCLY_TELEMETRY"] = "off";
        info.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
