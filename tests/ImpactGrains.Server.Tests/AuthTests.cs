using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ImpactGrains.Server.Tests;

/// <summary>One server with API keys (the test keys: admin, read, ingest), shared by the tests of the roles.</summary>
public sealed class KeyedServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerProcess.StartAsync(demo: false, extraArgs: TestApiKeys.ServerArgs);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Server.DeleteData();
    }
}

/// <summary>API keys and roles on the real server: 401 without a valid key, 403 for the wrong role, on every endpoint.</summary>
public sealed partial class AuthTests(KeyedServerFixture fixture) : IClassFixture<KeyedServerFixture>
{
    private ServerProcess Server => fixture.Server;

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    /// <summary>Every operation the OpenAPI document lists, with the role it must need.</summary>
    private async Task<List<(HttpMethod Method, string Path, string Role)>> OperationsAsync()
    {
        using var document = JsonDocument.Parse(await Server.Http.GetStringAsync("/openapi/v1.json"));
        var operations = new List<(HttpMethod, string, string)>();
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var method = new HttpMethod(operation.Name.ToUpperInvariant());
                var concrete = PathParameter().Replace(path.Name, "auth-nobody");
                var role = method == HttpMethod.Get ? "read" : method == HttpMethod.Post && path.Name == "/api/events" ? "ingest" : "admin";
                operations.Add((method, concrete, role));
            }
        }

        return operations;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key)
    {
        using var client = Server.ClientWithKey(key);
        using var request = new HttpRequestMessage(method, path);
        if (method != HttpMethod.Get && method != HttpMethod.Delete)
        {
            request.Content = Json("{}");
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    [Fact]
    public async Task Every_operation_needs_a_key_and_its_role()
    {
        var operations = await OperationsAsync();
        Assert.Contains(operations, o => o.Role == "ingest");
        Assert.True(operations.Count(o => o.Role == "admin") >= 8, "the document lists the administration operations");
        Assert.Contains(operations, o => o.Path == "/api/stream");
        var keysWithout = new Dictionary<string, string[]>
        {
            ["read"] = [TestApiKeys.Ingester],
            ["ingest"] = [TestApiKeys.Reader],
            ["admin"] = [TestApiKeys.Reader, TestApiKeys.Ingester],
        };
        var keyWith = new Dictionary<string, string>
        {
            ["read"] = TestApiKeys.Reader,
            ["ingest"] = TestApiKeys.Ingester,
            ["admin"] = TestApiKeys.Admin,
        };
        foreach (var (method, path, role) in operations)
        {
            var what = $"{method} {path} ({role})";
            using (var anonymous = await SendAsync(method, path, null))
            {
                Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{what} without a key: {anonymous.StatusCode}");
                Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
                Assert.Equal("ApiKey", anonymous.Headers.WwwAuthenticate.Single().Scheme);
                Assert.Contains($"the role '{role}'", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using (var wrongKey = await SendAsync(method, path, TestApiKeys.Create()))
            {
                Assert.True(wrongKey.StatusCode == HttpStatusCode.Unauthorized, $"{what} with an unknown key: {wrongKey.StatusCode}");
                Assert.Contains("not valid", await wrongKey.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            foreach (var key in keysWithout[role])
            {
                using var forbidden = await SendAsync(method, path, key);
                Assert.True(forbidden.StatusCode == HttpStatusCode.Forbidden, $"{what} with a key lacking the role: {forbidden.StatusCode}");
                Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);
                Assert.Contains($"needs '{role}'", await forbidden.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            foreach (var key in new[] { keyWith[role], TestApiKeys.Admin })
            {
                using var allowed = await SendAsync(method, path, key);
                Assert.True(allowed.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{what} with its role: {allowed.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task Probes_the_reference_and_the_viewer_need_no_key()
    {
        using var anonymous = Server.ClientWithKey(null);
        foreach (var path in new[] { "/health/live", "/health/ready", "/openapi/v1.json", "/", "/metrics" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task A_refused_write_stores_nothing()
    {
        Assert.Equal(HttpStatusCode.Created, (await Server.Http.PutAsync("/api/entities/auth-store", Json("""{"name":"Auth store","kind":"company"}"""))).StatusCode);
        var body = $$"""[{"id":"auth-store-1","entity":"auth-store","type":"outage","occurredAt":"{{DateTimeOffset.UtcNow.AddMinutes(-1):O}}","data":{"reports":5000} }]""";
        using (var reader = Server.ClientWithKey(TestApiKeys.Reader))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("/api/events", Json(body))).StatusCode);
        }

        using (var anonymous = Server.ClientWithKey(null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/events", Json(body))).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutAsync("/api/entities/auth-store", Json("""{"name":"Renamed","kind":"company"}"""))).StatusCode);
        }

        var events = JsonDocument.Parse(await Server.Http.GetStringAsync("/api/entities/auth-store/events")).RootElement;
        Assert.Equal(0, events.GetProperty("events").GetArrayLength());
        Assert.Equal("Auth store", JsonDocument.Parse(await Server.Http.GetStringAsync("/api/entities/auth-store")).RootElement.GetProperty("name").GetString());

        // The ingest key is what writes events.
        using var ingester = Server.ClientWithKey(TestApiKeys.Ingester);
        Assert.Equal(HttpStatusCode.OK, (await ingester.PostAsync("/api/events", Json(body))).StatusCode);
        events = JsonDocument.Parse(await Server.Http.GetStringAsync("/api/entities/auth-store/events")).RootElement;
        Assert.Equal(1, events.GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task A_key_may_come_as_a_bearer_token()
    {
        using var client = Server.ClientWithKey(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestApiKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/leaderboard")).StatusCode);
    }

    [Fact]
    public async Task A_read_stream_is_refused_without_the_read_role()
    {
        using var ingester = Server.ClientWithKey(TestApiKeys.Ingester);
        using var response = await ingester.GetAsync("/api/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("Authorization", "Basic !!!not-base64!!!")]
    [InlineData("Authorization", "Basic b3BlcmF0b3I=")] // "operator", no colon
    [InlineData("Authorization", "Basic b3BlcmF0b3I6")] // "operator:", an empty password
    [InlineData("Authorization", "Bearer ")]
    [InlineData("Authorization", "Digest username=x")]
    [InlineData("X-Api-Key", "long")]
    public async Task Hostile_credentials_are_a_401_not_an_error(string header, string value)
    {
        using var client = Server.ClientWithKey(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = Json("[]") };
        var sent = value == "long" ? new string('k', 6000) : value;
        Assert.True(request.Headers.TryAddWithoutValidation(header, sent));
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Two_key_headers_are_not_a_way_in()
    {
        using var client = Server.ClientWithKey(null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/entities");
        request.Headers.TryAddWithoutValidation("X-Api-Key", [TestApiKeys.Create(), TestApiKeys.Reader]);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex PathParameter();
}

/// <summary>Making keys, and the start-up checks of their configuration.</summary>
public sealed class KeyConfigurationTests
{
    [Fact]
    public async Task A_created_key_is_printed_once_and_the_printed_configuration_admits_it()
    {
        var (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), "keys", "create", "--name", "pipeline", "--roles", "ingest,read");
        Assert.Equal(0, exitCode);
        var key = Regex.Match(output, @"^\s+(ig_[A-Za-z0-9_-]{43})\s*$", RegexOptions.Multiline).Groups[1].Value;
        Assert.NotEmpty(key);
        Assert.Single(Regex.Matches(output, Regex.Escape(key)));
        var lines = Regex.Matches(output, @"^\s+(Impact__Auth__Keys__pipeline__\w+)=(\S+)\s*$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal("ingest,read", lines["Impact__Auth__Keys__pipeline__Roles"]);
        Assert.Equal(TestApiKeys.HashOf(key), lines["Impact__Auth__Keys__pipeline__Hash"]);

        // What it printed, given to a server as an operator would (here as arguments), lets the key read and ingest.
        await using var server = await ServerProcess.StartAsync(demo: false, extraArgs:
            [.. lines.Select(l => $"--{l.Key.Replace("__", ":", StringComparison.Ordinal)}={l.Value}"), .. TestApiKeys.Entry("tests_admin", "admin", TestApiKeys.Admin)]);
        using var client = server.ClientWithKey(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/entities")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PutAsync("/api/entities/x", new StringContent("""{"name":"X","kind":"company"}""", Encoding.UTF8, "application/json"))).StatusCode);
        server.DeleteData();
    }

    [Theory]
    [InlineData("--name", "has space", "--roles", "read", "--name: a key's name")]
    [InlineData("--name", "ok", "--roles", "boss", "--roles: 'boss' is not a role")]
    [InlineData("--roles", "read", "", "", "--name is required")]
    public async Task Keys_create_refuses_bad_arguments_in_one_line(string a, string b, string c, string d, string expected)
    {
        var (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), new[] { "keys", "create", a, b, c, d }.Where(x => x.Length > 0).ToArray());
        Assert.Equal(2, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Impact:Auth:Keys:ops:Roles=admin", "--Impact:Auth:Keys:ops:Hash=md5:abc", "Impact:Auth:Keys:ops:Hash: expected 'sha256:'")]
    [InlineData("--Impact:Auth:Keys:ops:Roles=root", "--Impact:Auth:Keys:ops:Hash=sha256:0000000000000000000000000000000000000000000000000000000000000000", "Impact:Auth:Keys:ops:Roles: 'root' is not a role")]
    public async Task The_server_refuses_to_start_with_a_bad_key_configuration(string roles, string hash, string expected)
    {
        var (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), "--urls=http://127.0.0.1:0", roles, hash,
            "--Impact:DataDirectory=" + Path.Combine(Path.GetTempPath(), "impactgrains-tests", Guid.NewGuid().ToString("N")));
        Assert.Equal(2, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_open_embedded_default_says_so_at_start_up()
    {
        await using var server = await ServerProcess.StartAsync(demo: false);
        Assert.Contains("OPEN ACCESS: no API keys are configured", server.Output, StringComparison.Ordinal);
        using var anonymous = server.ClientWithKey(null);
        Assert.Equal(HttpStatusCode.Created, (await anonymous.PutAsync("/api/entities/open-one", new StringContent("""{"name":"Open","kind":"company"}""", Encoding.UTF8, "application/json"))).StatusCode);
        server.DeleteData();
    }
}
