using System.CommandLine;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Spectre.Console;

namespace ImpactGrains.Cli.Commands;

/// <summary>
/// <c>impact feed publish FILE...</c>: publishes NDJSON events to the servers' NATS JetStream feed, in NDJSON messages
/// of at most <c>--batch-size</c> events and the server's largest payload, each confirmed by JetStream before the next
/// batch goes. The servers then take them exactly as <c>POST /api/events</c> would.
/// </summary>
internal static class FeedCommand
{
    private const string DefaultNatsUrl = "nats://127.0.0.1:4222";

    public static Command Build(CliEnvironment environment)
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "NDJSON files: one event per line, in the schema of POST /api/events",
            Arity = ArgumentArity.OneOrMore,
        };
        var nats = new Option<string?>("--nats") { Description = $"The NATS server (default: $IMPACT_NATS_URL, else {DefaultNatsUrl})" };
        var subject = new Option<string>("--subject") { Description = "The subject, inside the feed stream's subjects", DefaultValueFactory = _ => "impact.events.cli" };
        var batchSize = new Option<int>("--batch-size") { Description = "Events per message (1–10000)", DefaultValueFactory = _ => 1000 };
        var user = new Option<string?>("--user") { Description = "NATS user (default: $IMPACT_NATS_USER); the password comes from $IMPACT_NATS_PASSWORD" };
        var creds = new Option<string?>("--creds") { Description = "A NATS .creds file" };

        var publish = new Command("publish", "Publish NDJSON events to the NATS JetStream feed, each message confirmed by JetStream")
        {
            files, nats, subject, batchSize, user, creds,
        };
        publish.SetHandler(environment, async (context, cancellationToken) =>
        {
            var size = context.Get(batchSize);
            if (size is < 1 or > 10_000)
            {
                throw new UsageException("--batch-size: must be a whole number from 1 to 10000");
            }

            var to = context.Get(subject) ?? "impact.events.cli";
            if (to.Length == 0 || to.Any(c => char.IsWhiteSpace(c) || c is '*' or '>') || to.Split('.').Any(t => t.Length == 0))
            {
                throw new UsageException($"--subject: '{to}' is not a NATS subject without wildcards, such as impact.events.cli");
            }

            var paths = context.Get(files) ?? [];
            foreach (var path in paths)
            {
                if (!File.Exists(path))
                {
                    throw new CliFailure($"{path}: no such file");
                }
            }

            var url = context.Get(nats) ?? environment.GetVariable("IMPACT_NATS_URL") ?? DefaultNatsUrl;
            var credsFile = context.Get(creds);
            if (credsFile is not null && !File.Exists(credsFile))
            {
                throw new CliFailure($"--creds: {credsFile}: no such file");
            }

            var options = NatsOpts.Default with
            {
                Url = url,
                Name = "impact-cli",
                AuthOpts = NatsAuthOpts.Default with
                {
                    Username = context.Get(user) ?? environment.GetVariable("IMPACT_NATS_USER"),
                    Password = environment.GetVariable("IMPACT_NATS_PASSWORD"),
                    CredsFile = credsFile,
                },
                MaxReconnectRetry = 0,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            };
            await using var connection = new NatsConnection(options);
            try
            {
                await connection.ConnectAsync();
            }
            catch (NatsException e)
            {
                throw new CliFailure($"cannot reach NATS at {Redacted(url)}: {Describe(e)}");
            }

            var js = new NatsJSContext(connection);
            var streams = new List<string>();
            try
            {
                await foreach (var name in js.ListStreamNamesAsync(to, cancellationToken))
                {
                    streams.Add(name);
                }
            }
            catch (NatsException e)
            {
                throw new CliFailure($"NATS at {Redacted(url)} does not answer as JetStream (is it started with -js?): {Describe(e)}");
            }

            if (streams.Count == 0)
            {
                throw new CliFailure($"no JetStream stream takes subject {to}: start a server with Impact:Feeds:Nats:Url set (it creates the stream IMPACT_EVENTS on impact.events.>), or create one");
            }

            var maxPayload = Math.Max(1024, (connection.ServerInfo?.MaxPayload ?? 1 << 20) - 1024);
            var headers = new NatsHeaders { ["Content-Type"] = "application/x-ndjson" };
            long events = 0, messages = 0;
            foreach (var path in paths)
            {
                var batch = new StringBuilder();
                var inBatch = 0;
                var batchBytes = 0;
                var lineNumber = 0L;
                async Task SendAsync()
                {
                    if (inBatch == 0)
                    {
                        return;
                    }

                    try
                    {
                        var ack = await js.PublishAsync(to, Encoding.UTF8.GetBytes(batch.ToString()), headers: headers, cancellationToken: cancellationToken);
                        ack.EnsureSuccess();
                    }
                    catch (NatsJSException e)
                    {
                        throw new CliFailure($"JetStream refused a message of {path} (up to line {lineNumber}): {e.Message}; {events} events were published before");
                    }

                    events += inBatch;
                    messages++;
                    batch.Clear();
                    inBatch = 0;
                    batchBytes = 0;
                }

                foreach (var line in File.ReadLines(path))
                {
                    lineNumber++;
                    if (string.IsNullOrWhiteSpace(line))
                    {
                        continue;
                    }

                    var lineBytes = Encoding.UTF8.GetByteCount(line) + 1;
                    if (lineBytes > maxPayload)
                    {
                        throw new CliFailure($"{path}:{lineNumber}: the event is larger than the NATS server's largest message ({maxPayload} bytes)");
                    }

                    if (inBatch == size || batchBytes + lineBytes > maxPayload)
                    {
                        await SendAsync();
                    }

                    batch.Append(line).Append('\n');
                    inBatch++;
                    batchBytes += lineBytes;
                }

                await SendAsync();
            }

            context.Out.WriteLine($"published {events} events in {messages} messages to {to} (stream {string.Join(", ", streams)})");
            return ImpactCli.Ok;
        });

        return new Command("feed", "The NATS JetStream feed") { publish };
    }

    /// <summary>The URL without user information, for messages.</summary>
    private static string Redacted(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0 ? url.Replace(uri.UserInfo + "@", "", StringComparison.Ordinal) : url;

    private static string Describe(Exception e) =>
        e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message}: {inner.Message}" : e.Message;
}
