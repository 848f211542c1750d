using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// The NATS JetStream feed against a real <c>nats-server -js</c> on loopback (its own port and store per test) and the
/// real server as a process: every event counted exactly once whatever is killed, rejected events on the rejected subject.
/// </summary>
public sealed class FeedTests
{
    private const string Subject = "impact.events.test";
    private const string RejectedSubject = "impact.rejected";
    private const int Entities = 20;

    [Fact]
    public async Task Twenty_thousand_events_in_mixed_messages_count_exactly_once_and_republishing_changes_nothing()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var client = await ConnectAsync(nats);
        var js = new NatsJSContext(client);
        await CreateRejectedStreamAsync(js);
        await using var server = await StartServerAsync(nats);
        try
        {
            await RegisterEntitiesAsync(server.Http);
            await WaitForFeedHealthAsync(server.Http, "Healthy");
            var events = ValidEvents("mix", 20_000).ToList();
            var invalid = InvalidEvents(500).ToList();
            var messages = Messages(Interleave(events, invalid));
            await PublishAsync(js, messages);

            await WaitForConsumerDrainedAsync(js, messages.Count);
            Assert.Equal(20_000, await CountEventsAsync(server.Http, "mix"));
            var rejections = await ReadRejectionsAsync(js);
            Assert.Equal(500, rejections.Count);
            Assert.Equal(250, rejections.Count(r => r.GetProperty("error").GetString()!.StartsWith("entity: unknown entity 'ghost'", StringComparison.Ordinal)));
            Assert.Equal(150, rejections.Count(r => r.GetProperty("error").GetString()!.StartsWith("confidence:", StringComparison.Ordinal)));
            Assert.Equal(100, rejections.Count(r => r.GetProperty("id").ValueKind == JsonValueKind.Null));
            // The event as it was received: JSON where it is JSON, the raw text where it is not.
            var unknown = rejections.First(r => r.GetProperty("id").GetString() is { } id && id.StartsWith("ghost-", StringComparison.Ordinal));
            Assert.Equal("ghost", unknown.GetProperty("event").GetProperty("entity").GetString());
            Assert.Equal(JsonValueKind.String, rejections.First(r => r.GetProperty("id").ValueKind == JsonValueKind.Null).GetProperty("event").ValueKind);

            Assert.Equal(20_000, await server.Http.SumMetricAsync("impactgrains_feed_events_accepted_total"));
            Assert.Equal(500, await server.Http.SumMetricAsync("impactgrains_feed_events_rejected_total"));
            Assert.Equal(0, await server.Http.SumMetricAsync("impactgrains_feed_events_duplicate_total"));

            // Everything again: every valid event is a duplicate, the invalid ones are rejected again.
            await PublishAsync(js, messages);
            await WaitForConsumerDrainedAsync(js, 2 * messages.Count);
            Assert.Equal(20_000, await CountEventsAsync(server.Http, "mix"));
            Assert.Equal(20_000, await server.Http.SumMetricAsync("impactgrains_feed_events_accepted_total"));
            Assert.Equal(20_000, await server.Http.SumMetricAsync("impactgrains_feed_events_duplicate_total"));
            Assert.Equal(1000, (await ReadRejectionsAsync(js)).Count);

            // The lag gauge is there and drains to zero.
            Assert.Contains("impactgrains_feed_pending", await server.Http.GetStringAsync("/metrics"));
            await WaitUntilAsync(async () => await server.Http.SumMetricAsync("impactgrains_feed_pending") == 0,
                "the feed's pending gauge did not reach 0", TimeSpan.FromSeconds(60));
        }
        finally
        {
            server.DeleteData();
        }
    }

    [Fact]
    public async Task A_message_that_cannot_be_read_goes_whole_to_the_rejected_subject_and_is_acknowledged()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var client = await ConnectAsync(nats);
        var js = new NatsJSContext(client);
        await CreateRejectedStreamAsync(js);
        await using var server = await StartServerAsync(nats);
        try
        {
            await RegisterEntitiesAsync(server.Http);
            await WaitForFeedHealthAsync(server.Http, "Healthy");
            var messages = new List<(byte[] Body, string? ContentType)>
            {
                (Encoding.UTF8.GetBytes("{\"id\": \"broken"), "application/json"),
                (Encoding.UTF8.GetBytes("<xml/>"), "text/xml"),
                (Encoding.UTF8.GetBytes(ValidEvents("ok", 3).First()), null),
            };
            await PublishAsync(js, messages);
            await WaitForConsumerDrainedAsync(js, messages.Count);

            var rejections = await ReadRejectionsAsync(js);
            Assert.Equal(2, rejections.Count);
            Assert.Contains(rejections, r => r.GetProperty("event").GetString() == "{\"id\": \"broken");
            Assert.Contains(rejections, r => r.GetProperty("error").GetString()!.Contains("unsupported Content-Type 'text/xml'", StringComparison.Ordinal));
            Assert.Equal(1, await CountEventsAsync(server.Http, "ok"));
        }
        finally
        {
            server.DeleteData();
        }
    }

    [Fact]
    public async Task Kill_minus_nine_of_nats_in_the_middle_of_consumption_then_a_restart_counts_every_event_once()
    {
        await using var nats = await NatsServer.StartAsync();
        // A small in-flight bound makes consumption take long enough to be interrupted.
        await using var server = await StartServerAsync(nats, "--Impact:Feeds:Nats:MaxInFlight=4", "--Impact:Feeds:Nats:Concurrency=2");
        try
        {
            await RegisterEntitiesAsync(server.Http);
            await WaitForFeedHealthAsync(server.Http, "Healthy");
            var messages = Messages(ValidEvents("natskill", 12_000).ToList());
            await using (var client = await ConnectAsync(nats))
            {
                await PublishAsync(new NatsJSContext(client), messages);
            }

            await WaitUntilAsync(async () => await server.Http.SumMetricAsync("impactgrains_feed_events_accepted_total") > 0,
                "the feed did not start consuming", TimeSpan.FromSeconds(60));
            nats.Kill();

            // The feed is degraded while NATS is away; the HTTP API keeps serving.
            await WaitForFeedHealthAsync(server.Http, "Degraded");
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/api/entities/natskill-0")).StatusCode);
            Assert.True(await CountEventsAsync(server.Http, "natskill") < 12_000, "the kill came after everything was consumed; the test proves nothing");

            await nats.StartServerAsync();
            await using var again = await ConnectAsync(nats);
            await WaitForConsumerDrainedAsync(new NatsJSContext(again), messages.Count);
            Assert.Equal(12_000, await CountEventsAsync(server.Http, "natskill"));
            await WaitForFeedHealthAsync(server.Http, "Healthy");
        }
        finally
        {
            server.DeleteData();
        }
    }

    [Fact]
    public async Task Kill_minus_nine_of_the_server_in_the_middle_of_consumption_then_a_restart_counts_every_event_once()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var client = await ConnectAsync(nats);
        var js = new NatsJSContext(client);
        await using var server = await StartServerAsync(nats, "--Impact:Feeds:Nats:MaxInFlight=4", "--Impact:Feeds:Nats:Concurrency=2");
        try
        {
            await RegisterEntitiesAsync(server.Http);
            await WaitForFeedHealthAsync(server.Http, "Healthy");
            var messages = Messages(ValidEvents("silokill", 12_000).ToList());
            await PublishAsync(js, messages);
            await WaitUntilAsync(async () => await server.Http.SumMetricAsync("impactgrains_feed_events_accepted_total") > 0,
                "the feed did not start consuming", TimeSpan.FromSeconds(60));
            server.Kill();
            var consumer = await js.GetConsumerAsync("IMPACT_EVENTS", "impactgrains");
            Assert.True(consumer.Info.AckFloor.StreamSeq < (ulong)messages.Count, "the kill came after everything was acknowledged; the test proves nothing");

            // Whatever the killed silo held unacknowledged comes back after AckWait, to the restarted one.
            await server.StartAsync();
            await WaitForConsumerDrainedAsync(js, messages.Count);
            Assert.Equal(12_000, await CountEventsAsync(server.Http, "silokill"));
        }
        finally
        {
            server.DeleteData();
        }
    }

    [Fact]
    public async Task Nats_stopped_and_restarted_under_load_loses_nothing_and_the_feed_resumes_by_itself()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var server = await StartServerAsync(nats);
        try
        {
            await RegisterEntitiesAsync(server.Http);
            await WaitForFeedHealthAsync(server.Http, "Healthy");
            var messages = Messages(ValidEvents("restart", 6000).ToList());
            var half = messages.Count / 2;

            await using (var client = await ConnectAsync(nats))
            {
                await PublishAsync(new NatsJSContext(client), messages[..half]);
            }

            await WaitUntilAsync(async () => await server.Http.SumMetricAsync("impactgrains_feed_events_accepted_total") > 0,
                "the feed did not start consuming", TimeSpan.FromSeconds(60));
            await nats.StopAsync();
            await WaitForFeedHealthAsync(server.Http, "Degraded");
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/api/leaderboard")).StatusCode);
            await Task.Delay(TimeSpan.FromSeconds(2));

            await nats.StartServerAsync();
            await using var again = await ConnectAsync(nats);
            var js = new NatsJSContext(again);
            await PublishAsync(js, messages[half..]);
            await WaitForConsumerDrainedAsync(js, messages.Count);
            Assert.Equal(6000, await CountEventsAsync(server.Http, "restart"));
            await WaitForFeedHealthAsync(server.Http, "Healthy");
        }
        finally
        {
            server.DeleteData();
        }
    }

    [Fact]
    public async Task A_rejected_subject_inside_the_streams_subjects_is_refused_at_start_up()
    {
        var data = Directory.CreateTempSubdirectory("impactgrains-feed-refusal-").FullName;
        var (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), $"--Impact:DataDirectory={data}",
            "--Impact:Feeds:Nats:Url=nats://127.0.0.1:1", "--Impact:Feeds:Nats:RejectedSubject=impact.events.rejected");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("Impact:Feeds:Nats:RejectedSubject: 'impact.events.rejected' is inside the stream's subject 'impact.events.>'", output);
    }

    private static Task<ServerProcess> StartServerAsync(NatsServer nats, params string[] more) =>
        ServerProcess.StartAsync(demo: false, extraArgs:
        [
            $"--Impact:Feeds:Nats:Url={nats.Url}", "--Impact:Feeds:Nats:LagInterval=00:00:00.500", "--Impact:Feeds:Nats:NakDelay=00:00:01",
            "--Impact:Feeds:Nats:AckWait=00:00:10", .. more,
        ]);

    private static async Task<NatsConnection> ConnectAsync(NatsServer nats)
    {
        var connection = new NatsConnection(NatsOpts.Default with { Url = nats.Url, Name = "feed-tests" });
        await connection.ConnectAsync();
        return connection;
    }

    /// <summary>A stream that keeps the rejected subject, so that the test can count what was published there.</summary>
    private static Task CreateRejectedStreamAsync(NatsJSContext js) =>
        js.CreateStreamAsync(new StreamConfig("REJECTED", [RejectedSubject]) { Storage = StreamConfigStorage.File }).AsTask();

    private static async Task<List<JsonElement>> ReadRejectionsAsync(NatsJSContext js)
    {
        var stream = await js.GetStreamAsync("REJECTED");
        var count = (int)stream.Info.State.Messages;
        var consumer = await js.CreateOrderedConsumerAsync("REJECTED");
        var rejections = new List<JsonElement>();
        if (count == 0)
        {
            return rejections;
        }

        await foreach (var message in consumer.ConsumeAsync<byte[]>())
        {
            rejections.Add(JsonDocument.Parse(message.Data!).RootElement.Clone());
            if (rejections.Count == count)
            {
                break;
            }
        }

        return rejections;
    }

    private static async Task RegisterEntitiesAsync(HttpClient http)
    {
        var prefixes = new[] { "mix", "ok", "natskill", "silokill", "restart" };
        var items = prefixes.SelectMany(p => Enumerable.Range(0, Entities).Select(i => $$"""{"id":"{{p}}-{{i}}","name":"{{p}} {{i}}","kind":"company"}"""));
        var response = await http.PutJsonAsync("/api/entities", "[" + string.Join(',', items) + "]");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Events over <see cref="Entities"/> entities, each with its own instant (so that paging by time counts them).</summary>
    private static IEnumerable<string> ValidEvents(string prefix, int count)
    {
        var start = DateTimeOffset.UtcNow.AddDays(-20);
        for (var i = 0; i < count; i++)
        {
            var at = start.AddSeconds(i * 10).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            yield return Outage($"{prefix}-event-{i}", $"{prefix}-{i % Entities}", at, 600 + (i % 400));
        }
    }

    /// <summary>250 for an unknown entity, 150 with a confidence out of range, 100 that are not JSON at all.</summary>
    private static IEnumerable<string> InvalidEvents(int count)
    {
        var at = DateTimeOffset.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            yield return i switch
            {
                < 250 => Outage($"ghost-{i}", "ghost", at, 700),
                < 400 => $$$"""{"id":"unsure-{{{i}}}","entity":"mix-0","type":"outage","occurredAt":"{{{at}}}","confidence":2,"region":"US","data":{"reports":900,"baselineReports":500}}""",
                _ => $"not json {i}",
            };
        }
    }

    private static List<string> Interleave(List<string> valid, List<string> invalid)
    {
        var all = new List<string>(valid.Count + invalid.Count);
        var every = valid.Count / invalid.Count;
        var j = 0;
        for (var i = 0; i < valid.Count; i++)
        {
            all.Add(valid[i]);
            if (i % every == every - 1 && j < invalid.Count)
            {
                all.Add(invalid[j++]);
            }
        }

        all.AddRange(invalid[j..]);
        return all;
    }

    /// <summary>
    /// Messages of mixed shape: one event object, a JSON array, NDJSON with and without a Content-Type. Text that is not
    /// JSON can only travel as an NDJSON line.
    /// </summary>
    private static List<(byte[] Body, string? ContentType)> Messages(List<string> events)
    {
        var messages = new List<(byte[], string?)>();
        var sizes = new[] { 1, 37, 23, 41 };
        var shape = 0;
        for (var i = 0; i < events.Count; shape++)
        {
            var size = Math.Min(sizes[shape % sizes.Length], events.Count - i);
            var chunk = events.GetRange(i, size);
            var json = chunk.All(e => e.StartsWith('{'));
            (string Text, string? Type) message = (shape % sizes.Length) switch
            {
                _ when !json => (string.Join('\n', chunk), "application/x-ndjson"),
                0 => (chunk[0], "application/json"),
                1 => ("[\n" + string.Join(",\n", chunk) + "\n]", null),
                2 => (string.Join('\n', chunk) + "\n", "application/x-ndjson"),
                _ => (string.Join("\n\n", chunk), null),
            };
            messages.Add((Encoding.UTF8.GetBytes(message.Text), message.Type));
            i += size;
        }

        return messages;
    }

    private static async Task PublishAsync(NatsJSContext js, IReadOnlyList<(byte[] Body, string? ContentType)> messages)
    {
        foreach (var chunk in messages.Chunk(64))
        {
            await Task.WhenAll(chunk.Select(async m =>
            {
                var headers = m.ContentType is null ? null : new NatsHeaders { ["Content-Type"] = m.ContentType };
                // Retried while the stream is not there yet (the first silo creates it) or the server is restarting.
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        var ack = await js.PublishAsync(Subject, m.Body, headers: headers);
                        ack.EnsureSuccess();
                        return;
                    }
                    catch (Exception) when (attempt < 200)
                    {
                        await Task.Delay(250);
                    }
                }
            }));
        }
    }

    /// <summary>Waits until the consumer has had every message of the stream delivered and acknowledged.</summary>
    private static async Task WaitForConsumerDrainedAsync(NatsJSContext js, int streamMessages)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var consumer = await js.GetConsumerAsync("IMPACT_EVENTS", "impactgrains");
                var info = consumer.Info;
                last = $"ack floor {info.AckFloor?.StreamSeq}, pending {info.NumPending}, ack pending {info.NumAckPending}";
                if (info.AckFloor?.StreamSeq >= (ulong)streamMessages && info.NumPending == 0 && info.NumAckPending == 0)
                {
                    return;
                }
            }
            catch (NatsJSApiException e)
            {
                last = e.Message;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"the feed did not drain {streamMessages} messages: {last}");
    }

    /// <summary>Counts an entity group's events by paging back in time (each event has its own instant).</summary>
    private static async Task<int> CountEventsAsync(HttpClient http, string prefix)
    {
        var total = 0;
        for (var e = 0; e < Entities; e++)
        {
            var ids = new HashSet<string>();
            string? before = null;
            while (true)
            {
                var page = await http.GetJsonAsync($"/api/entities/{prefix}-{e}/events?limit=1000" + (before is null ? "" : "&before=" + Uri.EscapeDataString(before)));
                var events = page.GetProperty("events").EnumerateArray().ToList();
                foreach (var item in events)
                {
                    Assert.True(ids.Add(item.GetProperty("id").GetString()!), "an event is stored twice");
                }

                if (events.Count < 1000)
                {
                    break;
                }

                before = events[^1].GetProperty("occurredAt").GetString();
            }

            total += ids.Count;
        }

        return total;
    }

    private static async Task WaitForFeedHealthAsync(HttpClient http, string status)
    {
        var last = "";
        await WaitUntilAsync(async () =>
        {
            var response = await http.GetAsync("/health/ready");
            last = await response.Content.ReadAsStringAsync();
            using var health = JsonDocument.Parse(last);
            return health.RootElement.GetProperty("checks").GetProperty("feed").GetProperty("status").GetString() == status;
        }, $"the feed's health did not become {status}", TimeSpan.FromSeconds(90), () => last);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure, TimeSpan timeout, Func<string>? detail = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException(failure + (detail is null ? "" : ": " + detail()));
    }
}

internal static class FeedMetricsReading
{
    public static Task<double> SumMetricAsync(this HttpClient http, string metric) => SumAsync(http, metric);

    private static async Task<double> SumAsync(HttpClient http, string metric)
    {
        var text = await http.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }
}
