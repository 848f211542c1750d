using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace ImpactGrains.Cli.Tests;

/// <summary>ingest against the real server: CSV, a large NDJSON file, and resuming after a cancel and after a kill.</summary>
[Collection(CliServerCollection.Name)]
public sealed class IngestTests(CliServerFixture fixture, ITestOutputHelper output)
{
    private static string Instant(DateTimeOffset at) => at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_CSV_file_becomes_the_JSON_events_and_bad_rows_are_rejected_with_reasons()
    {
        await fixture.RegisterAsync("csv-acme", "product");
        await fixture.RegisterAsync("csv-globex", "product");
        var at = Instant(DateTimeOffset.UtcNow.AddHours(-2));
        var file = fixture.File("events.csv");
        await File.WriteAllTextAsync(file,
            "id,entity,type,occurredAt,region,confidence,source,data.reports,data.baselineReports,data.percent,data.severity,data.description,data.claimed\r\n" +
            $"csv-1,csv-acme,outage,{at},us,,status page,4000,500,,,,\r\n" +
            $"csv-2,csv-acme,stock-change,{at},,0.9,,,,-4.5,,,\r\n" +
            "\r\n" +
            $"csv-3,csv-globex,product-failure,{at},DE,1,\"Reuters, Berlin\",,,,major,\"recall of \"\"Model Z\"\", 2 lines:\nsecond\",\r\n" +
            $"csv-4,csv-globex,statement,{at}\r\n" +
            $"csv-5,csv-globex,statement,{at},GLOBAL,high,,,,,minor,,\r\n" +
            $"csv-6,csv-globex,cyberattack,{at},FR,0.5,,,,,,,true\r\n" +
            $"csv-7,csv-globex,product-failure,{at},,,,,,,major,\"unterminated\n");

        var result = await Cli.RunAsync(fixture.Url, "ingest", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal((7, 3, 0, 4), Cli.Summary(result, file));
        var rejected = File.ReadAllLines(file + ".rejected.ndjson").Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(
            [
                (2, 5, "csv-3", "data.description: must be a string of at most 2000 characters without control characters"),
                (3, 7, "csv-4", "line 7: the row has 4 fields; the header has 13"),
                (4, 8, "csv-5", "confidence: must be a number from 0 to 1"),
                (6, 10, "csv-7", "line 10: a quoted field is not closed before the end of the file"),
            ],
            rejected.Select(r => (r.GetProperty("index").GetInt32(), r.GetProperty("line").GetInt32(), r.GetProperty("id").GetString(), r.GetProperty("error").GetString())));

        await fixture.CountEventsAsync(["csv-acme", "csv-globex"], 3, TimeSpan.FromSeconds(20));
        var acme = (await fixture.GetJsonAsync("/api/entities/csv-acme/events")).GetProperty("events").EnumerateArray()
            .ToDictionary(e => e.GetProperty("id").GetString()!);
        var outage = acme["csv-1"];
        Assert.Equal("US", outage.GetProperty("region").GetString());
        Assert.Equal("status page", outage.GetProperty("source").GetString());
        Assert.Equal(1, outage.GetProperty("confidence").GetDouble());
        Assert.Equal(4000, outage.GetProperty("data").GetProperty("reports").GetInt64());
        Assert.Equal(500, outage.GetProperty("data").GetProperty("baselineReports").GetInt64());
        var stock = acme["csv-2"];
        Assert.Equal("GLOBAL", stock.GetProperty("region").GetString());
        Assert.Equal(0.9, stock.GetProperty("confidence").GetDouble());
        Assert.Equal(-4.5, stock.GetProperty("data").GetProperty("percent").GetDouble());
        var attack = (await fixture.GetJsonAsync("/api/entities/csv-globex/events")).GetProperty("events").EnumerateArray().Single();
        Assert.Equal("csv-6", attack.GetProperty("id").GetString());
        Assert.True(attack.GetProperty("data").GetProperty("claimed").GetBoolean());
        Assert.Equal("FR", attack.GetProperty("region").GetString());
    }

    /// <summary>
    /// A large file over 1,000 entities, every event accepted exactly once. 20,000 events by default, so that the test
    /// stays well under a minute on two cores; IMPACT_CLI_TEST_EVENTS=100000 runs the full size.
    /// </summary>
    [Fact]
    public async Task A_large_NDJSON_file_is_ingested_with_every_event_accepted_once()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("IMPACT_CLI_TEST_EVENTS"), out var n) ? n : 20_000;
        var watch = Stopwatch.StartNew();
        await fixture.RegisterBulkAsync();
        output.WriteLine($"registered {CliServerFixture.BulkEntities} entities in {watch.Elapsed.TotalSeconds:0.0} s");

        var file = fixture.File("bulk.ndjson");
        WriteEvents(file, "bulk", count, CliServerFixture.BulkEntities, CliServerFixture.BulkEntity);
        watch.Restart();
        var result = await Cli.RunAsync(fixture.Url, "ingest", file);
        var elapsed = watch.Elapsed;
        output.WriteLine($"ingested {count:N0} events ({new FileInfo(file).Length / 1024.0 / 1024.0:0.0} MiB) in {elapsed.TotalSeconds:0.0} s: {count / elapsed.TotalSeconds:0} events/s");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal((count, count, 0, 0), Cli.Summary(result, file));
        Assert.False(File.Exists(file + ".rejected.ndjson"));
        Assert.False(File.Exists(file + ".impact-progress"));
        var stored = await fixture.CountEventsAsync(Enumerable.Range(0, CliServerFixture.BulkEntities).Select(CliServerFixture.BulkEntity), count, TimeSpan.FromSeconds(30));
        Assert.Equal(count, stored);
    }

    [Fact]
    public async Task A_cancelled_ingest_resumes_from_its_checkpoint_without_duplicates()
    {
        const int count = 10_000;
        var entities = Enumerable.Range(0, 50).Select(i => $"resume-c-{i:D2}").ToArray();
        foreach (var entity in entities)
        {
            await fixture.RegisterAsync(entity, "organization");
        }

        var file = fixture.File("cancelled.ndjson");
        WriteEvents(file, "rc", count, entities.Length, i => entities[i]);
        using var cancel = new CancellationTokenSource();
        var run = Cli.RunAsync(fixture.Url, cancel.Token, null, "ingest", file, "--batch-size", "250");
        await WaitForCheckpointAsync(file, 1000, run);
        cancel.Cancel();
        var first = await run;

        Assert.True(first.ExitCode == 130, first.ToString());
        Assert.Contains("interrupted:", first.Error);
        var checkpoint = JsonDocument.Parse(File.ReadAllText(file + ".impact-progress")).RootElement;
        var skipped = checkpoint.GetProperty("index").GetInt64();
        var (events1, accepted1, duplicates1, _) = Cli.Summary(first, file);
        Assert.Equal(skipped, events1);
        Assert.Equal(skipped, accepted1);
        Assert.Equal(0, duplicates1);
        Assert.InRange(skipped, 1000, count - 1);

        var second = await Cli.RunAsync(fixture.Url, "ingest", file, "--batch-size", "250");

        Assert.True(second.ExitCode == 0, second.ToString());
        var (events2, accepted2, duplicates2, rejected2) = Cli.Summary(second, file);
        Assert.Equal(count - skipped, events2);
        Assert.Equal(0, rejected2);
        // In-flight batches get a few seconds to finish and be checkpointed after the cancel, so normally none is sent
        // twice; one that took longer than that would come back as duplicates, never as a second copy.
        Assert.InRange(duplicates2, 0, 2 * 250);
        Assert.Equal(count, accepted1 + accepted2 + duplicates2);
        Assert.Contains($"resumed after line {checkpoint.GetProperty("line").GetInt64()}", second.Out);
        Assert.False(File.Exists(file + ".impact-progress"));
        Assert.Equal(count, await fixture.CountEventsAsync(entities, count, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_killed_ingest_process_resumes_from_its_checkpoint_and_stores_every_event_once()
    {
        const int count = 10_000;
        const int batch = 250;
        var entities = Enumerable.Range(0, 50).Select(i => $"resume-k-{i:D2}").ToArray();
        foreach (var entity in entities)
        {
            await fixture.RegisterAsync(entity, "organization");
        }

        var file = fixture.File("killed.ndjson");
        WriteEvents(file, "rk", count, entities.Length, i => entities[i]);
        using (var process = Cli.StartProcess("ingest", file, "--batch-size", batch.ToString(CultureInfo.InvariantCulture), "--url", fixture.Url))
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            try
            {
                await WaitForCheckpointAsync(file, 1000, process.WaitForExitAsync().ContinueWith(_ => new CliResult(process.ExitCode, "", "")));
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"{e.Message}\n{await stdout}\n{await stderr}", e);
            }

            process.Kill(entireProcessTree: true); // kill -9: no shutdown, no last checkpoint
            await process.WaitForExitAsync();
        }

        var checkpoint = JsonDocument.Parse(File.ReadAllText(file + ".impact-progress")).RootElement;
        var skipped = checkpoint.GetProperty("index").GetInt64();
        Assert.InRange(skipped, 1000, count - 1);

        var second = await Cli.RunAsync(fixture.Url, "ingest", file, "--batch-size", batch.ToString(CultureInfo.InvariantCulture));

        Assert.True(second.ExitCode == 0, second.ToString());
        var (events, accepted, duplicates, rejected) = Cli.Summary(second, file);
        Assert.Equal(count - skipped, events);
        Assert.Equal(0, rejected);
        // Only batches that were in flight at the kill (two by default) can have been stored without a checkpoint.
        Assert.InRange(duplicates, 0, 2 * batch);
        Assert.Equal(count, await fixture.CountEventsAsync(entities, count, TimeSpan.FromSeconds(30)));
        Assert.Equal(count - skipped - duplicates, accepted);
    }

    private static async Task WaitForCheckpointAsync(string file, long atLeast, Task<CliResult> run)
    {
        var path = file + ".impact-progress";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (run.IsCompleted)
            {
                throw new InvalidOperationException($"the ingest ended before the test could interrupt it: {await run}");
            }

            try
            {
                if (File.Exists(path) && JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("index").GetInt64() >= atLeast)
                {
                    return;
                }
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // being replaced
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("no checkpoint within 60 s");
    }

    /// <summary>Events spread over the entities and the last six days, of five types, with unique ids.</summary>
    internal static void WriteEvents(string path, string prefix, int count, int entities, Func<int, string> entity)
    {
        var random = new Random(42);
        var end = DateTimeOffset.UtcNow.AddMinutes(-1);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        for (var i = 0; i < count; i++)
        {
            var at = Instant(end.AddSeconds(-random.Next(0, 6 * 86_400)));
            var region = (i % 4) switch { 0 => "US", 1 => "DE", 2 => "FR", _ => "GLOBAL" };
            var data = (i % 5) switch
            {
                0 => $$"""{"reports":{{random.Next(100, 50_000)}},"baselineReports":500}""",
                1 => $$$"""{"percent":{{{(-random.NextDouble() * 20).ToString("0.00", CultureInfo.InvariantCulture)}}}}""",
                2 => """{"severity":"major"}""",
                3 => $$$"""{"participants":{{{random.Next(10, 5000)}}}}""",
                _ => $$$"""{"percent":{{{(-random.NextDouble() * 50).ToString("0.0", CultureInfo.InvariantCulture)}}}}""",
            };
            var type = (i % 5) switch { 0 => "outage", 1 => "stock-change", 2 => "statement", 3 => "protest", _ => "sales-change" };
            writer.Write($$$"""{"id":"{{{prefix}}}-{{{i}}}","entity":"{{{entity(i % entities)}}}","type":"{{{type}}}","occurredAt":"{{{at}}}","region":"{{{region}}}","data":{{{data}}}}""");
            writer.Write('\n');
        }
    }
}
