using System.Net;
using System.Text;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class StreamTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    /// <summary>A Server-Sent Events reader: each event as (id, type, data).</summary>
    internal sealed class SseReader : IAsyncDisposable
    {
        private readonly HttpResponseMessage response;
        private readonly StreamReader reader;

        private SseReader(HttpResponseMessage response, Stream stream)
        {
            this.response = response;
            reader = new StreamReader(stream, Encoding.UTF8);
        }

        public static async Task<SseReader> OpenAsync(HttpClient http, string url, string? lastEventId = null)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (lastEventId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastEventId);
            }

            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new SseReader(response, await response.Content.ReadAsStreamAsync());
        }

        /// <summary>The next event, or null when the stream ends or nothing comes within the timeout.</summary>
        public async Task<(string? Id, string Type, string Data)?> NextAsync(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            string? id = null, type = null;
            var data = new StringBuilder();
            try
            {
                while (await reader.ReadLineAsync(cancel.Token) is { } line)
                {
                    if (line.Length == 0)
                    {
                        if (type is not null || data.Length > 0)
                        {
                            return (id, type ?? "message", data.ToString());
                        }

                        continue;
                    }

                    if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                    else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
                    else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line[6..]);
                }
            }
            catch (OperationCanceledException)
            {
            }

            return null;
        }

        public async Task<(string? Id, string Type, string Data)> NextMatchingAsync(Func<(string? Id, string Type, string Data), bool> match, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                if (await NextAsync(deadline - DateTime.UtcNow) is { } next && match(next))
                {
                    return next;
                }
            }

            throw new TimeoutException("no matching event arrived");
        }

        public ValueTask DisposeAsync()
        {
            reader.Dispose();
            response.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static string Now => DateTimeOffset.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ssZ");

    [Fact]
    public async Task Score_changes_arrive_live_filtered_by_entity()
    {
        await Api.RegisterAsync("sse-a");
        await Api.RegisterAsync("sse-b");
        await using var stream = await SseReader.OpenAsync(Api, "/api/stream?entity=sse-a");

        await (await Api.PostJsonAsync("/api/events", "[" + Outage("sse-b-1", "sse-b", Now, 4000) + "," + Outage("sse-a-1", "sse-a", Now, 4000) + "]")).JsonAsync();
        var message = await stream.NextMatchingAsync(e => e.Type == "score", TimeSpan.FromSeconds(10));
        Assert.Contains("\"entity\":\"sse-a\"", message.Data);
        Assert.Contains("\"score\":", message.Data);
        Assert.NotNull(message.Id);

        // Nothing about sse-b reaches this filtered stream.
        await (await Api.PostJsonAsync("/api/events", Outage("sse-b-2", "sse-b", Now, 9000))).JsonAsync();
        Assert.Null(await stream.NextAsync(TimeSpan.FromSeconds(1.5)));
    }

    [Fact]
    public async Task Score_changes_arrive_live_filtered_by_kind()
    {
        await Api.RegisterAsync("sse-kind-person", kind: "person");
        await Api.RegisterAsync("sse-kind-company");
        await using var stream = await SseReader.OpenAsync(Api, "/api/stream?kind=person&types=score");

        await (await Api.PostJsonAsync("/api/events",
            "[" + Outage("sse-kind-c-1", "sse-kind-company", Now, 4000) + "," + Outage("sse-kind-p-1", "sse-kind-person", Now, 4000) + "]")).JsonAsync();
        var message = await stream.NextMatchingAsync(e => e.Data.Contains("\"entity\":\"sse-kind-person\"", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.Contains("\"kind\":\"person\"", message.Data);

        // Only people reach this stream, whatever else scores meanwhile.
        await (await Api.PostJsonAsync("/api/events", Outage("sse-kind-c-2", "sse-kind-company", Now, 9000))).JsonAsync();
        while (await stream.NextAsync(TimeSpan.FromSeconds(1.5)) is { } next)
        {
            Assert.Contains("\"kind\":\"person\"", next.Data);
        }
    }

    [Fact]
    public async Task A_client_resumes_after_its_Last_Event_ID_and_an_unknown_id_asks_for_a_reset()
    {
        await Api.RegisterAsync("sse-resume");
        string lastId;
        await using (var first = await SseReader.OpenAsync(Api, "/api/stream?entity=sse-resume"))
        {
            await (await Api.PostJsonAsync("/api/events", Outage("sse-resume-1", "sse-resume", Now, 1000))).JsonAsync();
            lastId = (await first.NextMatchingAsync(e => e.Type == "score", TimeSpan.FromSeconds(10))).Id!;
        }

        // While disconnected, two more changes happen.
        await (await Api.PostJsonAsync("/api/events", Outage("sse-resume-2", "sse-resume", Now, 2000))).JsonAsync();
        await Task.Delay(600);
        await (await Api.PostJsonAsync("/api/events", Outage("sse-resume-3", "sse-resume", Now, 3000))).JsonAsync();
        await Task.Delay(600);

        await using var resumed = await SseReader.OpenAsync(Api, "/api/stream?entity=sse-resume", lastId);
        var missed = new List<(string? Id, string Type, string Data)>();
        while (await resumed.NextAsync(TimeSpan.FromSeconds(1)) is { } e)
        {
            missed.Add(e);
        }

        Assert.Equal(2, missed.Count(e => e.Type == "score"));
        Assert.DoesNotContain(missed, e => e.Id == lastId);
        Assert.DoesNotContain(missed, e => e.Type == "reset");

        await using var unknown = await SseReader.OpenAsync(Api, "/api/stream?entity=sse-resume", "no-such-epoch-42");
        Assert.Equal("reset", (await unknown.NextAsync(TimeSpan.FromSeconds(5)))?.Type);
    }

    [Theory]
    [InlineData("/api/stream?entity=sse-nobody", HttpStatusCode.NotFound)]
    [InlineData("/api/stream?group=sse-no-group", HttpStatusCode.NotFound)]
    [InlineData("/api/stream?kind=planet", HttpStatusCode.BadRequest)]
    [InlineData("/api/stream?types=score,gossip", HttpStatusCode.BadRequest)]
    public async Task Bad_stream_filters_are_problems(string url, HttpStatusCode status)
    {
        await (await Api.GetAsync(url)).ProblemAsync(status);
    }

    [Fact]
    public async Task Incidents_from_spike_detection_are_events_on_the_stream_and_in_the_log()
    {
        await Api.RegisterAsync("sse-spiky");
        await using var stream = await SseReader.OpenAsync(Api, "/api/stream?entity=sse-spiky&types=incident");

        // Two hours of quiet five-minute counts, then a wave: the detector learns the baseline, then fires.
        var start = DateTimeOffset.UtcNow.AddHours(-3);
        var random = new Random(3);
        var lines = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var reports = i < 24 ? 100 + random.Next(-15, 16) : 6000;
            lines.Add(Outage($"sse-spiky-{i}", "sse-spiky", start.AddMinutes(5 * i).ToString("yyyy-MM-ddTHH:mm:ssZ"), reports));
        }

        await (await Api.PostNdjsonAsync("/api/events", string.Join("\n", lines))).JsonAsync();
        var incident = await stream.NextMatchingAsync(e => e.Type == "incident", TimeSpan.FromSeconds(10));
        Assert.Contains("\"status\":\"detected\"", incident.Data);
        Assert.Contains("\"baselineMean\":", incident.Data);

        var events = await Api.GetJsonAsync("/api/entities/sse-spiky/events?limit=5");
        var logged = events.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "incident");
        var data = logged.GetProperty("data");
        Assert.Equal("detected", data.GetProperty("status").GetString());
        Assert.Equal(6000, data.GetProperty("reports").GetInt64());
        Assert.InRange(data.GetProperty("baselineMean").GetDouble(), 85, 115);
        Assert.True(data.GetProperty("zScore").GetDouble() > 4);
        Assert.Equal("spike-detector", logged.GetProperty("source").GetString());

        // Sending the same outages again detects nothing new.
        await (await Api.PostNdjsonAsync("/api/events", string.Join("\n", lines))).JsonAsync();
        var again = await Api.GetJsonAsync("/api/entities/sse-spiky/events?limit=50");
        Assert.Single(again.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == "incident");
    }
}
