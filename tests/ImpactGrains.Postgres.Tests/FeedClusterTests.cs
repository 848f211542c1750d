using NATS.Client.JetStream;
using static ImpactGrains.Testing.FeedTestKit;

namespace ImpactGrains.Postgres.Tests;

/// <summary>
/// The NATS JetStream feed on the PostgreSQL profile: silos of one cluster share the durable consumer, and every event
/// is counted exactly once when a silo is killed or the database goes away in the middle of consumption.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FeedClusterTests(PostgresFixture fixture)
{
    private const int Events = 12_000;

    [Fact]
    public async Task Two_silos_share_the_feed_and_kill_minus_nine_of_one_mid_consumption_counts_every_event_once()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        await using var nats = await NatsServer.StartAsync();
        // A small in-flight bound per silo makes consumption take long enough to be interrupted.
        var args = PostgresFixture.ServerArgs(connectionString, ServerArgs(nats, "--Impact:Feeds:Nats:MaxInFlight=4", "--Impact:Feeds:Nats:Concurrency=2"));
        await using var a = await ServerProcess.StartAsync(demo: false, extraArgs: args);
        await using var b = await ServerProcess.StartAsync(demo: false, extraArgs: args);
        try
        {
            await RegisterEntitiesAsync(a.Http, "cluster");
            await WaitForFeedHealthAsync(a.Http, "Healthy");
            await WaitForFeedHealthAsync(b.Http, "Healthy");
            await using var client = await ConnectAsync(nats);
            var js = new NatsJSContext(client);
            var messages = Messages(ValidEvents("cluster", Events).ToList());
            await PublishAsync(js, messages);

            // Both silos take part before one of them is killed.
            await WaitUntilAsync(async () => await a.Http.SumMetricAsync("impactgrains_feed_events_accepted_total") > 0
                                             && await b.Http.SumMetricAsync("impactgrains_feed_events_accepted_total") > 0,
                "both silos did not consume", TimeSpan.FromSeconds(60));
            b.Kill();
            var consumer = await js.GetConsumerAsync(StreamName, ConsumerName);
            Assert.True(consumer.Info.AckFloor.StreamSeq < (ulong)messages.Count, "the kill came after everything was acknowledged; the test proves nothing");

            // The survivor goes on alone; what the killed silo held comes back to it after AckWait.
            await WaitForConsumerDrainedAsync(js, messages.Count);
            Assert.Equal(Events, await CountEventsAsync(a.Http, "cluster"));

            // The killed silo rejoins and changes nothing.
            await b.StartAsync();
            await WaitForFeedHealthAsync(b.Http, "Healthy");
            Assert.Equal(Events, await CountEventsAsync(b.Http, "cluster"));
        }
        finally
        {
            a.DeleteData();
            b.DeleteData();
        }
    }

    [Fact]
    public async Task A_database_outage_mid_consumption_is_a_negative_acknowledgement_and_loses_nothing()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        await using var nats = await NatsServer.StartAsync();
        var args = PostgresFixture.ServerArgs(connectionString, ServerArgs(nats, "--Impact:Feeds:Nats:MaxInFlight=4", "--Impact:Feeds:Nats:Concurrency=2"));
        await using var server = await ServerProcess.StartAsync(demo: false, extraArgs: args);
        try
        {
            await RegisterEntitiesAsync(server.Http, "outage");
            await WaitForFeedHealthAsync(server.Http, "Healthy");
            await using var client = await ConnectAsync(nats);
            var js = new NatsJSContext(client);
            var messages = Messages(ValidEvents("outage", Events).ToList());
            await PublishAsync(js, messages);
            await WaitUntilAsync(async () => await server.Http.SumMetricAsync("impactgrains_feed_events_accepted_total") > 0,
                "the feed did not start consuming", TimeSpan.FromSeconds(60));

            await fixture.Server.StopServerAsync();
            try
            {
                await WaitUntilAsync(async () => await ServerMetrics.SumAsync(server.Http, "impactgrains_feed_messages_total", "outcome=\"nak\"") > 0,
                    "no message was negatively acknowledged while the database was down", TimeSpan.FromSeconds(60));
            }
            finally
            {
                await fixture.Server.StartServerAsync();
            }

            await WaitForConsumerDrainedAsync(js, messages.Count);
            Assert.Equal(Events, await CountEventsAsync(server.Http, "outage"));
        }
        finally
        {
            server.DeleteData();
        }
    }
}
