using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ImpactGrains.Cli.Tests;

/// <summary>One real server, started empty on loopback, shared by the CLI tests; each test uses its own entity ids.</summary>
public sealed class CliServerFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim bulkLock = new(1, 1);
    private bool bulkRegistered;

    public ServerProcess Server { get; private set; } = null!;

    public HttpClient Http => Server.Http;

    public string Url => $"http://127.0.0.1:{Server.HttpPort}";

    /// <summary>A folder for the test's input files, removed with the fixture.</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "impactgrains-cli-tests", Guid.NewGuid().ToString("N"));

    public const int BulkEntities = 1000;

    public static string BulkEntity(int i) => $"bulk-{i:D4}";

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        Server = await ServerProcess.StartAsync(demo: false);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Server.DeleteData();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    public string File(string name) => Path.Combine(Directory, name);

    public async Task RegisterAsync(string id, string kind, string? name = null)
    {
        using var response = await Http.PutAsync($"/api/entities/{id}",
            new StringContent(JsonSerializer.Serialize(new { name = name ?? id, kind }), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Registers bulk-0000 … bulk-0999 (organizations) once, through the API, eight at a time.</summary>
    public async Task RegisterBulkAsync()
    {
        await bulkLock.WaitAsync();
        try
        {
            if (!bulkRegistered)
            {
                await Parallel.ForEachAsync(Enumerable.Range(0, BulkEntities), new ParallelOptions { MaxDegreeOfParallelism = 8 },
                    async (i, _) => await RegisterAsync(BulkEntity(i), "organization"));
                bulkRegistered = true;
            }
        }
        finally
        {
            bulkLock.Release();
        }
    }

    public async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<JsonElement> PostNdjsonAsync(string ndjson)
    {
        using var response = await Http.PostAsync("/api/events", new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The events the server holds for these entities (each entity's eventCount), once it stops changing.</summary>
    public async Task<long> CountEventsAsync(IEnumerable<string> entities, long expected, TimeSpan timeout)
    {
        var ids = entities.ToArray();
        var deadline = DateTime.UtcNow + timeout;
        long total;
        do
        {
            long sum = 0;
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
            {
                var impact = await Http.GetFromJsonAsync<JsonElement>($"/api/entities/{id}/impact");
                Interlocked.Add(ref sum, impact.GetProperty("eventCount").GetInt64());
            });
            total = sum;
            if (total == expected)
            {
                return total;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);

        return total;
    }
}

[CollectionDefinition(Name)]
public sealed class CliServerCollection : ICollectionFixture<CliServerFixture>
{
    public const string Name = "cli-server";
}
