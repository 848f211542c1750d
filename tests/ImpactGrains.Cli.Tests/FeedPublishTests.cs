using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using static ImpactGrains.Testing.FeedTestKit;

namespace ImpactGrains.Cli.Tests;

/// <summary><c>impact feed publish</c> against a real <c>nats-server -js</c> on loopback.</summary>
public sealed class FeedPublishTests
{
    [Fact]
    public async Task Publishes_a_file_in_ndjson_messages_of_the_batch_size_each_confirmed()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var client = await ConnectAsync(nats);
        var js = new NatsJSContext(client);
        await js.CreateStreamAsync(new StreamConfig(StreamName, ["impact.events.>"]));
        var file = Path.GetTempFileName();
        try
        {
            var lines = ValidEvents("cli", 2500).ToList();
            await File.WriteAllTextAsync(file, string.Join("\n", lines.Take(1200)) + "\n\n   \n" + string.Join("\r\n", lines.Skip(1200)) + "\n");
            var result = await Cli.RunAsync(null, CancellationToken.None, new Dictionary<string, string> { ["IMPACT_NATS_URL"] = nats.Url },
                "feed", "publish", file, "--batch-size", "1000", "--subject", "impact.events.from-cli");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("published 2500 events in 3 messages to impact.events.from-cli (stream IMPACT_EVENTS)", result.Out);

            var stream = await js.GetStreamAsync(StreamName);
            Assert.Equal(3, (int)stream.Info.State.Messages);
            var consumer = await js.CreateOrderedConsumerAsync(StreamName);
            var received = new List<string>();
            await foreach (var message in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 3, Expires = TimeSpan.FromSeconds(5) }))
            {
                Assert.Equal("application/x-ndjson", message.Headers?["Content-Type"].ToString());
                Assert.Equal("impact.events.from-cli", message.Subject);
                received.AddRange(System.Text.Encoding.UTF8.GetString(message.Data!).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
            }

            Assert.Equal(lines, received);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Failures_are_one_line_and_a_non_zero_exit()
    {
        await using var nats = await NatsServer.StartAsync(); // no stream yet
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, ValidEvents("cli", 1).Single() + "\n");

            var noStream = await Cli.RunAsync(null, CancellationToken.None, null, "feed", "publish", file, "--nats", nats.Url);
            Assert.Equal(1, noStream.ExitCode);
            Assert.True(noStream.Error.Contains("no JetStream stream takes subject impact.events.cli", StringComparison.Ordinal), noStream.Error);

            var unreachable = await Cli.RunAsync(null, CancellationToken.None, null, "feed", "publish", file, "--nats", $"nats://user:hidden@127.0.0.1:{LoopbackPorts.Next()}");
            Assert.Equal(1, unreachable.ExitCode);
            Assert.StartsWith("error: cannot reach NATS at nats://127.0.0.1:", unreachable.Error);
            Assert.DoesNotContain("hidden", unreachable.Error);
            Assert.Single(unreachable.Error.Trim().Split('\n'));

            var missing = await Cli.RunAsync(null, CancellationToken.None, null, "feed", "publish", file + ".missing", "--nats", nats.Url);
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("no such file", missing.Error);

            var badSubject = await Cli.RunAsync(null, CancellationToken.None, null, "feed", "publish", file, "--subject", "impact.>");
            Assert.Equal(2, badSubject.ExitCode);
            Assert.Contains("--subject", badSubject.Error);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
