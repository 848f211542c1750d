using System.Globalization;
using System.Net.Http.Json;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Security;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Postgres;
using ImpactGrains.Storage.Sqlite;

namespace ImpactGrains.Server.Operations;

/// <summary>
/// Operator commands: <c>migrate</c> applies the schema and exits; <c>verify</c> rebuilds every score from the log and
/// compares it with what the live cluster answers (both read the same configuration keys as the server); <c>keys</c>
/// makes API keys (<see cref="KeyCommands"/>); <c>openapi</c> writes the OpenAPI document (<see cref="OpenApiSetup.WriteDocumentAsync"/>).
/// </summary>
public static class OperatorCommands
{
    public static readonly IReadOnlyList<string> Names = ["migrate", "verify", "keys", "openapi"];

    /// <summary>Runs the command named by args[0]; returns the exit code (0 success, 1 a difference, 2 an error).</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args.SkipWhile(a => !a.StartsWith('-')).ToArray())
            .Build();
        if (args[0] == "openapi")
        {
            return await OpenApiSetup.WriteDocumentAsync(args);
        }

        if (args[0] == "keys")
        {
            return KeyCommands.Run(args, configuration);
        }

        try
        {
            return args[0] switch
            {
                "migrate" => await MigrateAsync(configuration),
                _ => await VerifyAsync(configuration),
            };
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or Npgsql.NpgsqlException or Microsoft.Data.Sqlite.SqliteException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"{args[0]}: {ex.Message}");
            return 2;
        }
    }

    private static async Task<int> MigrateAsync(IConfiguration configuration)
    {
        var impact = ImpactServices.ReadOptions(configuration) ;
        if (impact.Storage == StorageProfile.Postgres)
        {
            await using var database = PostgresProfile.OpenDatabase(configuration, new ImpactOptions { MigrateOnStart = false });
            var applied = await database.MigrateAsync();
            Console.WriteLine(applied.Count == 0 ? "migrate: the schema is up to date" : $"migrate: applied {string.Join(", ", applied)}");
        }
        else
        {
            EmbeddedProfile.OpenDatabase(impact);
            Console.WriteLine($"migrate: the embedded schema in {Path.GetFullPath(impact.DataDirectory)} is up to date");
        }

        return 0;
    }

    private static async Task<int> VerifyAsync(IConfiguration configuration)
    {
        var impact = ImpactServices.ReadOptions(configuration);
        var url = configuration["url"] ?? "http://127.0.0.1:5080";
        var model = ScoringModelConfiguration.Read(configuration.GetSection("Impact:Model"));
        var at = configuration["at"] is { } text
            ? EventJson.ParseTimestamp(text) ?? throw new InvalidOperationException($"--at: '{text}' is not an RFC 3339 timestamp")
            : DateTimeOffset.UtcNow;
        var tolerance = configuration.GetValue("tolerance", 1e-9);

        IEventLog log;
        IEntityCatalog catalog;
        PostgresDatabase? postgres = null;
        if (impact.Storage == StorageProfile.Postgres)
        {
            postgres = PostgresProfile.OpenDatabase(configuration, new ImpactOptions { MigrateOnStart = false });
            log = new PostgresEventLog(postgres);
            catalog = new PostgresEntityCatalog(postgres);
        }
        else
        {
            var database = new SqliteDatabase(impact.DataDirectory);
            log = new SqliteEventLog(database);
            catalog = new SqliteEntityCatalog(database);
        }

        try
        {
            var rebuilt = await new ScoreRebuilder(log, catalog).RebuildAsync(model, at, CancellationToken.None);
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
            if ((configuration["api-key"] ?? Environment.GetEnvironmentVariable("IMPACT_API_KEY")) is { Length: > 0 } apiKey)
            {
                http.DefaultRequestHeaders.Add(ClientIdentity.ApiKeyHeader, apiKey);
            }

            var pending = rebuilt.Keys.ToList();
            var differences = new List<string>();

            // Delivery is asynchronous, so a difference gets a few seconds to settle before it counts.
            for (var round = 0; round < 5 && pending.Count > 0; round++)
            {
                if (round > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }

                differences.Clear();
                var stillDifferent = new List<string>();
                foreach (var id in pending)
                {
                    var live = await http.GetFromJsonAsync<ImpactReport>($"/api/entities/{id}/impact?at={Uri.EscapeDataString(EventJson.FormatTimestamp(at))}")
                        ?? throw new InvalidOperationException($"no answer for {id}");
                    var expected = rebuilt[id];
                    var difference = Describe(id, expected, live, tolerance);
                    if (difference is not null)
                    {
                        stillDifferent.Add(id);
                        differences.Add(difference);
                    }
                }

                pending = stillDifferent;
            }

            Console.WriteLine($"verify: {rebuilt.Count} entities at {EventJson.FormatTimestamp(at)}, {rebuilt.Count - differences.Count} agree, {differences.Count} differ");
            foreach (var line in differences)
            {
                Console.WriteLine(line);
            }

            return differences.Count == 0 ? 0 : 1;
        }
        finally
        {
            (log as IDisposable)?.Dispose();
            if (log is IAsyncDisposable asyncLog)
            {
                await asyncLog.DisposeAsync();
            }

            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }
        }
    }

    private static string? Describe(string id, ImpactBreakdown expected, ImpactReport live, double tolerance)
    {
        var problems = new List<string>();
        void Check(string name, double want, double got)
        {
            if (Math.Abs(want - got) > tolerance)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {got:R} (log says {want:R})"));
            }
        }

        Check("score", expected.Score, live.Score);
        Check("direct", expected.Direct, live.Direct);
        Check("inherited", expected.Inherited, live.Inherited);
        if (expected.EventCount != live.EventCount)
        {
            problems.Add($"eventCount {live.EventCount} (log says {expected.EventCount})");
        }

        return problems.Count == 0 ? null : $"  {id}: " + string.Join(", ", problems);
    }
}
