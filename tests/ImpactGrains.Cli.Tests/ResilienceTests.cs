using System.Diagnostics;
using System.Text.Json;

namespace ImpactGrains.Cli.Tests;

/// <summary>Retries, batch splitting, failures with a checkpoint, the API key and the stream's reconnection, against a fake server.</summary>
public sealed class ResilienceTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "impactgrains-cli-fake", Guid.NewGuid().ToString("N"));

    public ResilienceTests() => Directory.CreateDirectory(directory);

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private string WriteEvents(string name, int count)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i =>
            $$$"""{"id":"ev-{{{i}}}","entity":"acme","type":"statement","occurredAt":"2025-03-10T14:00:00Z","data":{"severity":"minor"}}"""));
        return path;
    }

    [Fact]
    public async Task Ingest_waits_as_a_429_answer_asks_and_then_sends_again()
    {
        var calls = 0;
        await using var server = new FakeServer(async (request, response) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                await FakeServer.ProblemAsync(response, 429, "Too many requests", "slow down", ("Retry-After", "1"));
                return;
            }

            await FakeServer.AcceptAllAsync(request, response);
        }).Start();
        var file = WriteEvents("retry.ndjson", 3);

        var watch = Stopwatch.StartNew();
        var result = await Cli.RunAsync(server.Url, "ingest", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {watch.Elapsed}");
        Assert.Equal(2, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal("application/x-ndjson", r.Headers["Content-Type"]));
        Assert.Equal(server.Requests.First().Body, server.Requests.Last().Body);
        Assert.Equal((3, 3, 0, 0), Cli.Summary(result, file));
        Assert.Contains("Too many requests (HTTP 429): slow down; retry 1 in 1.0 s", result.Error);
        Assert.False(File.Exists(file + ".impact-progress"), "a complete run leaves no checkpoint");
    }

    [Fact]
    public async Task Ingest_retries_a_503_and_a_refused_connection_with_backoff()
    {
        var port = FakeServer.FreePort();
        var file = WriteEvents("down.ndjson", 5);
        var run = Cli.RunAsync($"http://127.0.0.1:{port}", CancellationToken.None, null, "ingest", file, "--batch-size", "2");

        // Nothing listens for a while: connection refused, retried with backoff.
        await Task.Delay(1200);
        var calls = 0;
        await using var server = new FakeServer(async (request, response) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                await FakeServer.ProblemAsync(response, 503, "Storage unavailable", "the database cannot be reached");
                return;
            }

            await FakeServer.AcceptAllAsync(request, response);
        }, port).Start();
        var result = await run;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Connection refused", result.Error);
        Assert.Contains("Storage unavailable (HTTP 503)", result.Error);
        Assert.Equal((5, 5, 0, 0), Cli.Summary(result, file));
        Assert.Equal(4, server.Requests.Count); // the 503, then three batches of 2, 2 and 1
    }

    [Fact]
    public async Task Ingest_splits_a_batch_the_server_finds_too_large()
    {
        await using var server = new FakeServer(async (request, response) =>
        {
            if (request.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 3)
            {
                await FakeServer.ProblemAsync(response, 413, "Request body too large", "a request may carry at most 3 events; split the batch");
                return;
            }

            await FakeServer.AcceptAllAsync(request, response);
        }).Start();
        var file = WriteEvents("large.ndjson", 20);

        var result = await Cli.RunAsync(server.Url, "ingest", file, "--batch-size", "10", "--parallel", "1");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal((20, 20, 0, 0), Cli.Summary(result, file));
        var accepted = server.Requests.Where(r => r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 3)
            .SelectMany(r => r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()).ToList();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"ev-{i}"), accepted);
    }

    [Fact]
    public async Task A_failed_ingest_keeps_its_checkpoint_and_a_rerun_resumes_after_it()
    {
        var calls = 0;
        await using var failing = new FakeServer(async (request, response) =>
        {
            if (Interlocked.Increment(ref calls) == 3)
            {
                await FakeServer.ProblemAsync(response, 400, "Malformed request", "broken on purpose");
                return;
            }

            await FakeServer.AcceptAllAsync(request, response);
        }).Start();
        var file = Path.Combine(directory, "resume.csv");
        File.WriteAllLines(file,
        [
            "id,entity,type,occurredAt,data.severity",
            .. Enumerable.Range(0, 10).Select(i => $"csv-{i},acme,statement,2025-03-10T14:00:00Z,minor"),
        ]);

        var first = await Cli.RunAsync(failing.Url, CancellationToken.None, null, "ingest", file, "--batch-size", "2", "--parallel", "1");

        Assert.True(first.ExitCode == 1, first.ToString());
        var error = Assert.Single(first.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"error: {file}: Malformed request (HTTP 400): broken on purpose; the server has acknowledged the file up to line 5, rerun to resume", error);
        var checkpoint = JsonDocument.Parse(File.ReadAllText(file + ".impact-progress")).RootElement;
        Assert.Equal(4, checkpoint.GetProperty("index").GetInt64());
        Assert.Equal(5, checkpoint.GetProperty("line").GetInt64());

        // Same URL (the checkpoint is bound to it), now answering.
        await failing.DisposeAsync();
        await using var working = new FakeServer(FakeServer.AcceptAllAsync, failing.Port).Start();
        var second = await Cli.RunAsync(working.Url, CancellationToken.None, null, "ingest", file, "--batch-size", "2", "--parallel", "1");

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal((6, 6, 0, 0), Cli.Summary(second, file));
        Assert.Contains("resumed after line 5; 4 events were acknowledged by an earlier run", Cli.Squeeze(second.Out));
        var ids = working.Requests.SelectMany(r => r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()).ToList();
        Assert.Equal(Enumerable.Range(4, 6).Select(i => $"csv-{i}"), ids);
        Assert.False(File.Exists(file + ".impact-progress"));
    }

    [Fact]
    public async Task The_url_and_api_key_come_from_the_environment_unless_given()
    {
        await using var server = new FakeServer((_, response) =>
            FakeServer.WriteAsync(response, 200, "application/json", """{"at":"2026-01-01T00:00:00Z","kind":null,"category":null,"region":null,"entries":[]}""")).Start();
        var variables = new Dictionary<string, string> { ["IMPACT_URL"] = server.Url, ["IMPACT_API_KEY"] = "from-env" };

        var fromEnvironment = await Cli.RunAsync(null, CancellationToken.None, variables, "top");
        var fromOptions = await Cli.RunAsync(null, CancellationToken.None, variables, "top", "--api-key", "from-option", "--limit", "3");

        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());
        Assert.True(fromOptions.ExitCode == 0, fromOptions.ToString());
        Assert.Contains("No entity has impact.", fromEnvironment.Out);
        var requests = server.Requests.ToArray();
        Assert.Equal("from-env", requests[0].Headers["X-Api-Key"]);
        Assert.Equal("/api/leaderboard?limit=10", requests[0].PathAndQuery);
        Assert.Equal("from-option", requests[1].Headers["X-Api-Key"]);
        Assert.Equal("/api/leaderboard?limit=3", requests[1].PathAndQuery);
    }

    [Fact]
    public async Task Watch_reconnects_with_Last_Event_ID_after_the_stream_drops()
    {
        var connections = 0;
        var second = new TaskCompletionSource();
        await using var server = new FakeServer(async (request, response) =>
        {
            response.StatusCode = 200;
            response.ContentType = "text/event-stream";
            response.SendChunked = true;
            var writer = new StreamWriter(response.OutputStream) { AutoFlush = true };
            if (Interlocked.Increment(ref connections) == 1)
            {
                await writer.WriteAsync(": hello\n\nretry: 200\n\nid: ep-1\nevent: score\ndata: {\"entity\":\"acme\",\"name\":\"Acme\",\"kind\":\"company\",\"at\":\"2026-11-27T03:30:50Z\",\"score\":61.234,\"direct\":56.6,\"inherited\":10.1}\n\n");
                response.Abort(); // the connection drops
                return;
            }

            await writer.WriteAsync("id: ep-2\nevent: alert\ndata: {\"id\":\"alert-1\",\"rule\":\"rule-1\",\"target\":\"acme\",\"metric\":\"score\",\"value\":64.2,\"threshold\":60,\"at\":\"2026-11-27T03:31:00Z\"}\n\n");
            second.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(30));
        }).Start();
        using var stop = new CancellationTokenSource();
        var output = new LockedWriter();
        var error = new LockedWriter();

        var run = Cli.StartAsync(server.Url, output, error, stop.Token, null, "watch", "acme", "--types", "score, alert");
        await second.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await WaitForAsync(() => output.Text.Contains("alert"), TimeSpan.FromSeconds(10));
        stop.Cancel();
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(exit == 0, $"{exit}\n{output.Text}\n{error.Text}");
        var requests = server.Requests.ToArray();
        Assert.Equal("/api/stream?entity=acme&types=score%2Calert", requests[0].PathAndQuery);
        Assert.False(requests[0].Headers.ContainsKey("Last-Event-ID"));
        Assert.Equal("ep-1", requests[1].Headers["Last-Event-ID"]);
        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal("2026-11-27T03:30:50Z score    acme 61.23 direct 56.60 inherited 10.10 (Acme, company)", lines[0].TrimEnd());
        Assert.Equal("2026-11-27T03:31:00Z alert    acme score 64.20 ≥ 60 (rule rule-1, alert-1)", lines[1].TrimEnd());
        Assert.Contains("reconnected, resuming after ep-1", error.Text);
    }

    internal static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the condition did not hold in time");
            }

            await Task.Delay(50);
        }
    }
}
