using System.Globalization;
using System.Text;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Xunit;

namespace ImpactGrains.Testing;

/// <summary>
/// What the feed tests share (single server and PostgreSQL cluster alike): events spread over a few entity groups,
/// published to the feed's stream in messages of mixed shape, and counted back through the HTTP API exactly.
/// </summary>
public static class FeedTestKit
{
    public const string Subject = "impact.events.test";
    public const string RejectedSubject = "impact.rejected";
    public const string StreamName = "IMPACT_EVENTS";
    public const string ConsumerName = "impactgrains";

    /// <summary>Entities per group: events go round-robin over <c>{group}-0</c> … <c>{group}-19</c>.</summary>
    public const int Entities = 20;

    public static string Outage(string id, string entity, string at, int reports, string region = "US") =>
        $$$"""{"id":"{{{id}}}","entity":"{{{entity}}}","type":"outage","occurredAt":"{{{at}}}","region":"{{{region}}}","data":{"reports":{{{reports}}},"baselineReports":500}}""";

    /// <summary>The feed arguments of a server process (fast lag reads and retries for tests), plus <paramref name="more"/>.</summary>
    public static string[] ServerArgs(NatsServer nats, params string[] more) =>
    [
        $"--Impact:Feeds:Nats:Url={nats.Url}", "--Impact:Feeds:Nats:LagInterval=00:00:00.500", "--Impact:Feeds:Nats:NakDelay=00:00:01",
        "--Impact:Feeds:Nats:AckWait=00:00:10", .. more,
    ];

    public static async Task<NatsConnection> ConnectAsync(NatsServer nats, string? user = null, string? password = null)
    {
        var auth = NatsAuthOpts.Default with { Username = user, Password = password };
        var connection = new NatsConnection(NatsOpts.Default with { Url = nats.Url, Name = "feed-tests", AuthOpts = auth });
        await connection.ConnectAsync();
        return connection;
    }

    /// <summary>A stream that keeps the rejected subject, so that a test can count what was published there.</summary>
    public static Task CreateRejectedStreamAsync(NatsJSContext js) =>
        js.CreateStreamAsync(new StreamConfig("REJECTED", [RejectedSubject]) { Storage = StreamConfigStorage.File }).AsTask();

    public static async Task<List<JsonElement>> ReadRejectionsAsync(NatsJSContext js)
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

    public static async Task RegisterEntitiesAsync(HttpClient http, params string[] groups)
    {
        var items = groups.SelectMany(p => Enumerable.Range(0, Entities).Select(i => $$"""{"id":"{{p}}-{{i}}","name":"{{p}} {{i}}","kind":"company"}"""));
        using var body = new StringContent("[" + string.Join(',', items) + "]", Encoding.UTF8, "application/json");
        var response = await http.PutAsync("/api/entities", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Events over <see cref="Entities"/> entities, each with its own instant (so that paging by time counts them).</summary>
    public static IEnumerable<string> ValidEvents(string prefix, int count)
    {
        var start = DateTimeOffset.UtcNow.AddDays(-20);
        for (var i = 0; i < count; i++)
        {
            var at = start.AddSeconds(i * 10).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            yield return Outage($"{prefix}-event-{i}", $"{prefix}-{i % Entities}", at, 600 + (i % 400));
        }
    }

    /// <summary>250 for an unknown entity, 150 with a confidence out of range, 100 that are not JSON at all.</summary>
    public static IEnumerable<string> InvalidEvents(int count)
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

    public static List<string> Interleave(List<string> valid, List<string> invalid)
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
    public static List<(byte[] Body, string? ContentType)> Messages(List<string> events)
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

    public static async Task PublishAsync(NatsJSContext js, IReadOnlyList<(byte[] Body, string? ContentType)> messages)
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
    public static async Task WaitForConsumerDrainedAsync(NatsJSContext js, int streamMessages)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var consumer = await js.GetConsumerAsync(StreamName, ConsumerName);
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
    public static async Task<int> CountEventsAsync(HttpClient http, string prefix)
    {
        var total = 0;
        for (var e = 0; e < Entities; e++)
        {
            var ids = new HashSet<string>();
            string? before = null;
            while (true)
            {
                var url = $"/api/entities/{prefix}-{e}/events?limit=1000" + (before is null ? "" : "&before=" + Uri.EscapeDataString(before));
                using var page = JsonDocument.Parse(await http.GetStringAsync(url));
                var events = page.RootElement.GetProperty("events").EnumerateArray().Select(x => x.Clone()).ToList();
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

    public static async Task WaitForFeedHealthAsync(HttpClient http, string status)
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

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure, TimeSpan timeout, Func<string>? detail = null)
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

    public static async Task<double> SumMetricAsync(this HttpClient http, string metric)
    {
        var text = await http.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }
}
