using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace ImpactGrains.Cli.Commands;

/// <summary>
/// <c>impact watch [ENTITY] [--group] [--kind] [--types]</c>: live updates from <c>GET /api/stream</c>, one line per
/// event, reconnecting with <c>Last-Event-ID</c> after a dropped connection, until Ctrl+C.
/// </summary>
internal static class WatchCommand
{
    public static readonly string[] Types = ["score", "alert", "incident"];

    /// <summary>The server sends a comment after 15 s of silence; nothing for this long means the connection is dead.</summary>
    internal static TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(45);

    public static Command Build(CliEnvironment environment)
    {
        var entity = new Argument<string?>("ENTITY") { Description = "Only this entity's events", Arity = ArgumentArity.ZeroOrOne };
        var group = new Option<string?>("--group") { Description = "Only the events of this group's members, and its alerts" };
        var kind = new Option<string?>("--kind") { Description = "Only entities of this kind" };
        kind.AcceptOnlyFromAmong(TopCommand.Kinds);
        var types = new Option<string?>("--types") { Description = "Comma-separated event types: score, alert, incident (default: all)" };
        var command = new Command("watch", "Live score changes, incidents and alerts, one line each, until Ctrl+C") { entity, group, kind, types };
        command.SetHandler(environment, async (context, cancellationToken) =>
        {
            var typeList = context.Get(types);
            if (typeList is not null)
            {
                var given = typeList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                var unknown = given.FirstOrDefault(t => !Types.Contains(t));
                if (given.Length == 0 || unknown is not null)
                {
                    throw new UsageException($"--types: '{unknown ?? typeList}' is not one of {string.Join(", ", Types)}");
                }

                typeList = string.Join(',', given);
            }

            var query = ApiClient.Query("api/stream", ("entity", context.Get(entity)), ("group", context.Get(group)), ("kind", context.Get(kind)), ("types", typeList));
            return await WatchAsync(context, query, cancellationToken);
        });
        return command;
    }

    private static async Task<int> WatchAsync(CommandContext context, string query, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            BaseAddress = context.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (context.ApiKey is not null)
        {
            http.DefaultRequestHeaders.Add("X-Api-Key", context.ApiKey);
        }

        string? lastEventId = null;
        TimeSpan? serverRetry = null;
        var connected = false;
        var failures = 0;
        var error = context.Environment.Error;
        while (true)
        {
            TimeSpan delay;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, query);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                if (lastEventId is not null)
                {
                    request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
                }

                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
                {
                    var problem = await ApiClient.ErrorAsync(response, cancellationToken);
                    delay = ApiClient.RetryAfter(response) ?? Backoff(++failures);
                    error.WriteLine(CliEnvironment.OneLine($"notice: {problem.Message}; reconnecting in {Format.Duration(delay)}"));
                    await Task.Delay(delay, cancellationToken);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw await ApiClient.ErrorAsync(response, cancellationToken);
                }

                error.WriteLine(connected
                    ? $"notice: reconnected{(lastEventId is null ? "" : $", resuming after {lastEventId}")}"
                    : $"notice: watching {new Uri(context.BaseAddress, query)}; Ctrl+C to stop");
                connected = true;
                failures = 0;
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                var reader = new SseReader(stream);
                while (await reader.ReadAsync(IdleTimeout, cancellationToken) is { } message)
                {
                    if (message.Id is not null)
                    {
                        lastEventId = message.Id;
                    }

                    if (message.Retry is { } retry)
                    {
                        serverRetry = retry;
                    }

                    if (message.Event is null && message.Data.Length == 0)
                    {
                        continue;
                    }

                    context.Out.MarkupLine(Line(message.Event ?? "message", message.Data));
                    if (message.Event == "dropped")
                    {
                        break;
                    }
                }

                delay = serverRetry ?? TimeSpan.FromSeconds(1);
                error.WriteLine($"notice: the stream ended; reconnecting in {Format.Duration(delay)}");
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or IOException or TimeoutException)
            {
                if (!connected)
                {
                    throw new CliFailure($"cannot reach {context.BaseAddress.GetLeftPart(UriPartial.Authority)}: {(e is HttpRequestException h ? ApiClient.Describe(h) : e.Message)}");
                }

                delay = serverRetry ?? Backoff(++failures);
                error.WriteLine(CliEnvironment.OneLine($"notice: connection lost ({e.Message}); reconnecting in {Format.Duration(delay)}"));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ImpactCli.Ok;
            }

            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return ImpactCli.Ok;
            }
        }
    }

    private static TimeSpan Backoff(int failures) => TimeSpan.FromSeconds(Math.Min(10, Math.Pow(2, Math.Min(failures - 1, 4))));

    /// <summary>One event as one line (markup).</summary>
    internal static string Line(string type, string data)
    {
        JsonElement json;
        try
        {
            using var document = JsonDocument.Parse(data);
            json = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return $"{Format.Instant(DateTimeOffset.UtcNow)} {Format.Escape(type),-8} {Format.Escape(data)}";
        }

        string E(string property) => Format.Escape(Format.Text(json, property));
        switch (type)
        {
            case "score":
                return $"{Format.Instant(Format.Get(json, "at"))} [blue]score[/]    {E("entity")} [bold]{Format.Score(Format.Double(json, "score"))}[/] " +
                       $"direct {Format.Score(Format.Double(json, "direct"))} inherited {Format.Score(Format.Double(json, "inherited"))} ({E("name")}, {E("kind")})";
            case "incident":
            {
                var details = Format.Get(json, "data");
                var z = Format.Double(details, "zScore").ToString("0.0", CultureInfo.InvariantCulture);
                return $"{Format.Instant(Format.Get(json, "occurredAt"))} [red]incident[/] {E("entity")} {Format.Escape(Format.Text(details, "status"))} in {E("region")}: " +
                       $"{Format.Escape(Format.Text(details, "reports"))} reports, z {z} ({E("id")})";
            }

            case "alert":
                return $"{Format.Instant(Format.Get(json, "at"))} [yellow]alert[/]    {E("target")} {E("metric")} {Format.Score(Format.Double(json, "value"))} ≥ " +
                       $"{Format.Number(Format.Double(json, "threshold"))} (rule {E("rule")}, {E("id")})";
            case "reset":
            case "dropped":
                return $"{Format.Instant(DateTimeOffset.UtcNow)} [grey]{Format.Escape(type)}[/]{new string(' ', Math.Max(1, 9 - type.Length))}{E("reason")}";
            default:
                return $"{Format.Instant(DateTimeOffset.UtcNow)} {Format.Escape(type)} {Format.Escape(data)}";
        }
    }
}

/// <summary>One Server-Sent Event.</summary>
internal sealed record SseMessage(string? Id, string? Event, string Data, TimeSpan? Retry);

/// <summary>Reads Server-Sent Events (the WHATWG event-stream format) from a stream.</summary>
internal sealed class SseReader(Stream stream)
{
    private readonly StreamReader reader = new(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);

    /// <summary>The next event; null when the stream ends. Throws <see cref="TimeoutException"/> after <paramref name="idle"/> without a line.</summary>
    public async Task<SseMessage?> ReadAsync(TimeSpan idle, CancellationToken cancellationToken)
    {
        string? id = null;
        string? type = null;
        TimeSpan? retry = null;
        var data = new StringBuilder();
        var any = false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            timeout.CancelAfter(idle);
            string? line;
            try
            {
                line = await reader.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"nothing received for {Format.Duration(idle)}");
            }

            if (line is null)
            {
                return null; // an event not ended by a blank line is dropped, as the format says
            }

            if (line.Length == 0)
            {
                if (any)
                {
                    var text = data.Length > 0 && data[^1] == '\n' ? data.ToString(0, data.Length - 1) : data.ToString();
                    return new SseMessage(id, type, text, retry);
                }

                continue;
            }

            if (line[0] == ':')
            {
                continue; // a comment: the keep-alive
            }

            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }

            switch (field)
            {
                case "data":
                    data.Append(value).Append('\n');
                    any = true;
                    break;
                case "event":
                    type = value;
                    any = true;
                    break;
                case "id" when !value.Contains('\0'):
                    id = value;
                    any = true;
                    break;
                case "retry" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds):
                    retry = TimeSpan.FromMilliseconds(milliseconds);
                    any = true;
                    break;
            }
        }
    }
}
