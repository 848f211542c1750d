using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using ImpactGrains.Client;
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

            var filter = new StreamFilter(context.Get(entity), context.Get(group), context.Get(kind), typeList?.Split(','));
            return await WatchAsync(context, filter, cancellationToken);
        });
        return command;
    }

    private static async Task<int> WatchAsync(CommandContext context, StreamFilter filter, CancellationToken cancellationToken)
    {
        var error = context.Environment.Error;
        // Until Ctrl+C: a 429 or 503 when (re)connecting is waited out as often as it comes.
        var api = context.CreateApi(o =>
        {
            o.MaxRetries = int.MaxValue;
            o.MaxRetryDuration = Timeout.InfiniteTimeSpan;
            o.OnRetry = retry => error.WriteLine(CliEnvironment.OneLine($"notice: {retry.Error.Message}; reconnecting in {Format.Duration(retry.Delay)}"));
        });
        var options = new StreamOptions
        {
            IdleTimeout = IdleTimeout,
            OnConnectionEvent = change => error.WriteLine(CliEnvironment.OneLine(change.State switch
            {
                StreamConnectionState.Connected => $"notice: watching {change.Url}; Ctrl+C to stop",
                StreamConnectionState.Reconnected => $"notice: reconnected{(change.LastEventId is null ? "" : $", resuming after {change.LastEventId}")}",
                StreamConnectionState.Ended => $"notice: the stream ended; reconnecting in {Format.Duration(change.Delay ?? TimeSpan.Zero)}",
                _ => $"notice: connection lost ({change.Reason}); reconnecting in {Format.Duration(change.Delay ?? TimeSpan.Zero)}",
            })),
        };

        try
        {
            await foreach (var e in api.StreamAsync(filter, options, cancellationToken))
            {
                context.Out.MarkupLine(Line(e));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C
        }

        return ImpactCli.Ok;
    }

    /// <summary>One event as one line (markup).</summary>
    internal static string Line(StreamEvent e)
    {
        switch (e)
        {
            case ScoreEvent { Score: var s }:
                return $"{Format.Instant(s.At)} [blue]score[/]    {Format.Escape(s.Entity)} [bold]{Format.Score(s.Score)}[/] " +
                       $"direct {Format.Score(s.Direct)} inherited {Format.Score(s.Inherited)} ({Format.Escape(s.Name)}, {Format.Escape(s.Kind)})";
            case IncidentEvent { Incident: var i }:
            {
                var z = (i.Data?["zScore"]?.GetValue<double>() ?? 0).ToString("0.0", CultureInfo.InvariantCulture);
                return $"{Format.Instant(i.OccurredAt)} [red]incident[/] {Format.Escape(i.Entity)} {Format.Escape(Text(i.Data?["status"]))} in {Format.Escape(i.Region)}: " +
                       $"{Format.Escape(Text(i.Data?["reports"]))} reports, z {z} ({Format.Escape(i.Id)})";
            }

            case AlertEvent { Alert: var a }:
                return $"{Format.Instant(a.At)} [yellow]alert[/]    {Format.Escape(a.Target)} {Format.Escape(a.Metric)} {Format.Score(a.Value)} ≥ " +
                       $"{Format.Number(a.Threshold)} (rule {Format.Escape(a.Rule)}, {Format.Escape(a.Id)})";
            case ResetEvent { Reason: var reason }:
                return $"{Format.Instant(DateTimeOffset.UtcNow)} [grey]reset[/]    {Format.Escape(reason)}";
            case DroppedEvent { Reason: var reason }:
                return $"{Format.Instant(DateTimeOffset.UtcNow)} [grey]dropped[/]  {Format.Escape(reason)}";
            default:
                return $"{Format.Instant(DateTimeOffset.UtcNow)} {Format.Escape(e.Type)} {Format.Escape(e.Data)}";
        }
    }

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(),
    };
}
