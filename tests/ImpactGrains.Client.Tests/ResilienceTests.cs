using System.Diagnostics;
using System.Net;
using ImpactGrains.Client;

namespace ImpactGrains.Client.Tests;

/// <summary>What is retried and what is not, against a fake server: 429 and 503 after their Retry-After, nothing else.</summary>
public sealed class ResilienceTests
{
    private static ImpactClient ClientOf(FakeServer server, Action<ImpactClientOptions>? configure = null)
    {
        var options = new ImpactClientOptions { BaseAddress = server.Url, ApiKey = "the-key" };
        configure?.Invoke(options);
        return ImpactClient.Create(options);
    }

    [Fact]
    public async Task A_429_is_retried_after_its_Retry_After_and_announced()
    {
        var calls = 0;
        await using var server = new FakeServer(async (_, response) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                await FakeServer.ProblemAsync(response, 429, "Too many requests", "slow down", ("Retry-After", "1"));
                return;
            }

            await FakeServer.WriteAsync(response, 200, "application/json", """{"accepted":2,"duplicates":0,"rejected":[]}""");
        });
        var notices = new List<ImpactRetryNotice>();
        using var client = ClientOf(server, o => o.OnRetry = notices.Add);

        var watch = Stopwatch.StartNew();
        var result = await client.PostEventsAsync([EventRequest.Statement("a", "acme", DateTimeOffset.UtcNow, Severities.Minor), EventRequest.Statement("b", "acme", DateTimeOffset.UtcNow, Severities.Minor)]);

        Assert.Equal(2, result.Accepted);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {watch.Elapsed}");
        var requests = server.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal(requests[0].Body, requests[1].Body);
        Assert.All(requests, r => Assert.Equal("the-key", r.Headers["X-Api-Key"]));
        var notice = Assert.Single(notices);
        Assert.Equal((1, TimeSpan.FromSeconds(1), 429), (notice.Attempt, notice.Delay, notice.Error.Status));
        Assert.Equal("Too many requests (HTTP 429): slow down", notice.Error.Message);
    }

    [Fact]
    public async Task A_503_is_retried_with_backoff_until_the_budget_runs_out_and_then_thrown()
    {
        await using var server = new FakeServer((_, response) =>
            FakeServer.ProblemAsync(response, 503, "Storage unavailable", "the database cannot be reached", ("Retry-After", "1")));
        // A budget just under three seconds: the second retry (answered 1 s + overhead after the first) fits while that
        // overhead stays under 0.95 s, and a third (answered 2 s + overhead after it) never does. With 2.5 s, a retry
        // answered 0.5 s late on a loaded machine (CI runs test projects side by side) left only one.
        using var client = ClientOf(server, o => o.MaxRetryDuration = TimeSpan.FromSeconds(2.95));

        var error = await Assert.ThrowsAsync<ImpactApiException>(() => client.GetLeaderboardAsync());

        Assert.Equal((503, "Storage unavailable"), (error.Status, error.Title));
        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
        Assert.Equal(3, server.Requests.Count); // the first try and two retries a second apart; a third would end past 2.95 s
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(408)]
    public async Task Other_errors_are_not_retried(int status)
    {
        await using var server = new FakeServer((_, response) => FakeServer.ProblemAsync(response, status, "Broken", "on purpose", ("Retry-After", "1")));
        using var client = ClientOf(server);

        var error = await Assert.ThrowsAsync<ImpactApiException>(() => client.PostEventAsync(EventRequest.Statement("a", "acme", DateTimeOffset.UtcNow, Severities.Minor)));

        Assert.Equal(status, error.Status);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task An_answer_that_is_not_problem_json_keeps_its_status_line()
    {
        await using var server = new FakeServer((_, response) => FakeServer.WriteAsync(response, 502, "text/html", "<html><body>Bad gateway</body></html>"));
        using var client = ClientOf(server);

        var error = await Assert.ThrowsAsync<ImpactApiException>(() => client.GetEntityAsync("acme"));

        Assert.False(error.IsProblem);
        Assert.Equal("HTTP 502 Bad Gateway: <html><body>Bad gateway</body></html>", error.Message);
    }

    [Fact]
    public async Task A_server_that_cannot_be_reached_is_not_retried()
    {
        using var client = ImpactClient.Create(new ImpactClientOptions { BaseAddress = new Uri($"http://127.0.0.1:{LoopbackPorts.Next()}") });
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.ListEntitiesAsync());

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Contains("Connection refused", error.InnerException?.Message ?? error.Message);
    }

    [Fact]
    public async Task An_attempt_without_an_answer_in_time_is_a_timeout()
    {
        await using var server = new FakeServer(async (_, response) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10));
            await FakeServer.WriteAsync(response, 200, "application/json", FakeServer.EmptyBoard);
        });
        using var client = ClientOf(server, o => o.AttemptTimeout = TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => client.GetLeaderboardAsync());

        Assert.Contains("no answer within 1 s", error.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_batch_the_server_finds_too_large_is_split()
    {
        await using var server = new FakeServer(async (request, response) =>
        {
            var lines = request.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            if (lines > 3)
            {
                await FakeServer.ProblemAsync(response, 413, "Request body too large", "at most 3 events");
                return;
            }

            await FakeServer.WriteAsync(response, 200, "application/json", $$"""{"accepted":{{lines}},"duplicates":0,"rejected":[{"index":0,"id":null,"error":"first of its request"}]}""");
        });
        using var client = ClientOf(server, o => o.EventBatchSize = 8);

        var totals = await client.PostEventsAsync(Events(10));

        Assert.Equal(10, totals.Accepted);
        // The server rejected the first of each request it accepted: 8 → 4 → 2+2, 4 → 2+2, then 2.
        Assert.Equal([0, 2, 4, 6, 8], totals.Rejected.Select(r => r.Index));
        Assert.All(server.Requests, r => Assert.Equal("application/x-ndjson", r.Headers["Content-Type"]));
    }

    private static async IAsyncEnumerable<EventRequest> Events(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return EventRequest.Statement($"ev-{i}", "acme", DateTimeOffset.UtcNow, Severities.Minor);
            await Task.Yield();
        }
    }

    [Fact]
    public async Task The_stream_reconnects_with_Last_Event_ID_after_a_dropped_connection()
    {
        var connections = 0;
        await using var server = new FakeServer(async (request, response) =>
        {
            response.StatusCode = 200;
            response.ContentType = "text/event-stream";
            response.SendChunked = true;
            var writer = new StreamWriter(response.OutputStream) { AutoFlush = true };
            if (Interlocked.Increment(ref connections) == 1)
            {
                await writer.WriteAsync(": hello\n\nretry: 200\n\nid: ep-1\nevent: score\ndata: {\"entity\":\"acme\",\"name\":\"Acme\",\"kind\":\"company\",\"at\":\"2026-11-27T03:30:50Z\",\"score\":61.2,\"direct\":56.6,\"inherited\":10.1,\"categories\":{},\"regions\":{\"US\":61.2}}\n\n");
                response.Abort(); // the connection drops
                return;
            }

            await writer.WriteAsync("id: ep-2\nevent: alert\ndata: {\"id\":\"alert-1\",\"rule\":\"rule-1\",\"target\":\"acme\",\"metric\":\"score\",\"entity\":\"acme\",\"group\":null,\"value\":64.2,\"threshold\":60,\"at\":\"2026-11-27T03:31:00Z\"}\n\n");
            await writer.WriteAsync("event: dropped\ndata: {\"reason\":\"too slow\"}\n\n");
            await Task.Delay(TimeSpan.FromSeconds(30));
        });
        using var client = ClientOf(server);
        var changes = new List<StreamConnectionEvent>();
        var received = new List<StreamEvent>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await foreach (var e in client.StreamAsync(new StreamFilter(Entity: "acme", Types: ["score", "alert"]), new StreamOptions { OnConnectionEvent = changes.Add }, stop.Token))
        {
            received.Add(e);
            if (e is DroppedEvent)
            {
                break;
            }
        }

        var requests = server.Requests.ToArray();
        Assert.Equal("/api/stream?entity=acme&types=score%2Calert", requests[0].PathAndQuery);
        Assert.False(requests[0].Headers.ContainsKey("Last-Event-ID"));
        Assert.Equal("ep-1", requests[1].Headers["Last-Event-ID"]);
        Assert.Equal("text/event-stream", requests[0].Headers["Accept"]);

        var score = Assert.IsType<ScoreEvent>(received[0]);
        Assert.Equal(("ep-1", "acme", 61.2, 61.2), (score.Id, score.Score.Entity, score.Score.Score, score.Score.Regions["US"]));
        var alert = Assert.IsType<AlertEvent>(received[1]);
        Assert.Equal(("ep-2", "rule-1", 64.2), (alert.Id, alert.Alert.Rule, alert.Alert.Value));
        Assert.Equal("too slow", Assert.IsType<DroppedEvent>(received[2]).Reason);

        Assert.Equal(StreamConnectionState.Connected, changes[0].State);
        // An aborted chunked response reads as an end of stream or as an error, by timing: either way, a reconnection.
        Assert.Contains(changes[1].State, new[] { StreamConnectionState.Lost, StreamConnectionState.Ended });
        Assert.Equal(TimeSpan.FromMilliseconds(200), changes[1].Delay);
        Assert.Equal((StreamConnectionState.Reconnected, "ep-1"), (changes[2].State, changes[2].LastEventId));
    }
}
