using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using static ImpactGrains.Testing.FeedTestKit;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// The NATS JetStream feed against a real <c>nats-server -js</c> on loopback (its own port and store per test) and the
/// real server as a process: every event counted exactly once whatever is killed, rejected events on the rejected subject.
/// </summary>
public sealed class FeedTests
{
    [Fact]
    public async Task Twenty_thousand_events_in_mixed_messages_count_exactly_once_and_republishing_changes_nothing()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var client = await ConnectAsync(nats);
        var js = new NatsJSContext(client);
        await CreateRejectedStreamAsync(js);
        await using var server = await StartServerAsync(nats, "--Impact:Feeds:Nats:MaxInFlight=16", "--Impact:Feeds:Nats:Concurrency=4");
        try
        {
            await RegisterEntitiesAsync(server.Http, Groups);
            await WaitForFeedHealthAsync(server.Http, "Healthy");
            var events = ValidEvents("mix", 20_000).ToList();
            var invalid = InvalidEvents(500).ToList();
            var messages = Messages(Interleave(events, invalid));

            // Back-pressure: while the whole stream waits, JetStream never has more than the silo's bound out at once.
            using var sampling = new CancellationTokenSource();
            var mostOut = Task.Run(async () =>
            {
                var most = 0L;
                while (!sampling.IsCancellationRequested)
                {
                    var consumer = await js.GetConsumerAsync(StreamName, ConsumerName);
                    most = Math.Max(most, consumer.Info.NumAckPending);
                    await Task.Delay(20);
                }

                return most;
            });
            await PublishAsync(js, messages);
            await WaitForConsumerDrainedAsync(js, messages.Count);
            await sampling.CancelAsync();
            Assert.InRange(await mostOut, 1, 16);
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

            // The gauges are there; the lag drains to zero.
            var metrics = await server.Http.GetStringAsync("/metrics");
            Assert.Contains("impactgrains_feed_pending", metrics);
            Assert.Contains("impactgrains_feed_in_flight", metrics);
            Assert.Equal(1, await server.Http.SumMetricAsync("impactgrains_feed_connected"));
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
            await RegisterEntitiesAsync(server.Http, Groups);
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
            await RegisterEntitiesAsync(server.Http, Groups);
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
            await RegisterEntitiesAsync(server.Http, Groups);
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
            await RegisterEntitiesAsync(server.Http, Groups);
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
    public async Task Credentials_let_the_feed_in_and_never_appear_in_logs_or_health()
    {
        const string password = "s3cret-feed-password-7f3a";
        await using var nats = await NatsServer.StartAsync("--user", "impact", "--pass", password);

        // A wrong password: the feed is degraded, the API serves, and neither password shows anywhere.
        const string wrong = "wrong-feed-password-91c2";
        await using (var refused = await StartServerAsync(nats, "--Impact:Feeds:Nats:User=impact", $"--Impact:Feeds:Nats:Password={wrong}"))
        {
            try
            {
                await WaitForFeedHealthAsync(refused.Http, "Degraded");
                await Task.Delay(TimeSpan.FromSeconds(2)); // a few reconnection attempts, each logged
                var health = await refused.Http.GetStringAsync("/health/ready");
                Assert.Contains("cannot be reached", health);
                Assert.Equal(HttpStatusCode.OK, (await refused.Http.GetAsync("/api/leaderboard")).StatusCode);
                Assert.DoesNotContain(wrong, health);
                Assert.DoesNotContain(wrong, refused.Output);
            }
            finally
            {
                refused.DeleteData();
            }
        }

        // The right one, given in the URL: the feed consumes, and the password is in no log line and no health answer.
        await using var server = await ServerProcess.StartAsync(demo: false, extraArgs: ServerArgs(nats).Select(a =>
            a.StartsWith("--Impact:Feeds:Nats:Url=", StringComparison.Ordinal) ? $"--Impact:Feeds:Nats:Url=nats://impact:{password}@127.0.0.1:{nats.Port}" : a).ToArray());
        try
        {
            await RegisterEntitiesAsync(server.Http, Groups);
            await WaitForFeedHealthAsync(server.Http, "Healthy");
            await using var client = await ConnectAsync(nats, "impact", password);
            var messages = Messages(ValidEvents("ok", 40).ToList());
            await PublishAsync(new NatsJSContext(client), messages);
            await WaitForConsumerDrainedAsync(new NatsJSContext(client), messages.Count);
            Assert.Equal(40, await CountEventsAsync(server.Http, "ok"));
            var health = await server.Http.GetStringAsync("/health/ready");
            Assert.Contains($"127.0.0.1:{nats.Port}", health);
            Assert.DoesNotContain(password, health);
            Assert.DoesNotContain(password, server.Output);
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

    private static readonly string[] Groups = ["mix", "ok", "natskill", "silokill", "restart"];

    private static Task<ServerProcess> StartServerAsync(NatsServer nats, params string[] more) =>
        ServerProcess.StartAsync(demo: false, extraArgs: ServerArgs(nats, more));
}
