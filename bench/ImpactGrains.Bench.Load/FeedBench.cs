using System.Diagnostics;
using ImpactGrains.Testing;
using NATS.Client.JetStream;

namespace ImpactGrains.Bench;

/// <summary>
/// The NATS JetStream feed against HTTP ingestion on the same server (#17): the same entities, the same events in the
/// same batch size, side by side. HTTP first, closed loop as in the ingestion rows; then as many events published to
/// the feed's subject, timed from the first publish until the feed's consumer has acknowledged the last message (so
/// until every event is committed, as a 200 means for HTTP).
/// </summary>
public static class FeedBench
{
    /// <summary>Messages published concurrently: enough to keep the silo's in-flight bound full.</summary>
    private const int PublishConcurrency = 32;

    public static async Task<(Throughput Http, Throughput Feed)> RunAsync(
        string runId, int entities, int workers, int batchSize, double seconds, Action<string> log)
    {
        await using var nats = await NatsServer.StartAsync();
        await using var server = await BenchServer.StartAsync(FeedTestKit.ServerArgs(nats));
        await Workloads.RegisterAsync(server.Http, runId, 0, entities, "company");
        var pid = server.FindProcessId();
        await Workloads.IngestAsync([server.Http], runId, entities, skewed: false, workers, batchSize, Math.Min(1, seconds)); // warm-up, and every grain active
        var http = await Throughput.WithCpuAsync(
            () => Workloads.IngestAsync([server.Http], runId, entities, skewed: false, workers, batchSize, seconds), [pid]);
        log($"  HTTP: {http.Summary("events")}");

        await using var connection = await FeedTestKit.ConnectAsync(nats);
        var js = new NatsJSContext(connection);
        var messages = (int)Math.Max(1, http.Operations / batchSize);
        var events = new BenchEvents(runId, entities, skewed: false, seed: 4242); // ids unlike the HTTP phase's (its seeds are small)
        var feed = await Throughput.WithCpuAsync(async () =>
        {
            var latency = new Latencies();
            var watch = Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, PublishConcurrency).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) < messages)
                {
                    var sent = Stopwatch.GetTimestamp();
                    var ack = await js.PublishAsync(FeedTestKit.Subject, events.Batch(batchSize, DateTimeOffset.UtcNow));
                    ack.EnsureSuccess();
                    latency.AddSince(sent);
                }
            }));
            await FeedTestKit.WaitForConsumerDrainedAsync(js, messages);
            var elapsed = watch.Elapsed.TotalSeconds;
            return new Throughput((long)messages * batchSize / elapsed, latency, (long)messages * batchSize, elapsed);
        }, [pid]);
        log($"  feed: {feed.Summary("events")} (latency: the publish acknowledgement)");

        // Every event the feed took must be stored: the feed's own counter, from the server's metrics.
        var accepted = await ServerMetrics.SumAsync(server.Http, "impactgrains_feed_events_accepted_total");
        if (accepted < feed.Operations)
        {
            throw new InvalidOperationException($"the feed accepted {accepted:N0} of {feed.Operations:N0} events");
        }

        return (http, feed);
    }
}
