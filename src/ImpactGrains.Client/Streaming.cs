using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ImpactGrains.Client;

/// <summary>Which events of the live stream to receive; every filter is optional and they combine with AND.</summary>
/// <param name="Entity">Only this entity's events.</param>
/// <param name="Group">Only the events of this group's members, and its alerts.</param>
/// <param name="Kind">Only entities of this kind (<see cref="EntityKinds"/>).</param>
/// <param name="Types">Only these event types: score, alert, incident.</param>
public sealed record StreamFilter(string? Entity = null, string? Group = null, string? Kind = null, IReadOnlyList<string>? Types = null);

/// <summary>How <see cref="ImpactClient.StreamAsync"/> follows the stream.</summary>
public sealed record StreamOptions
{
    /// <summary>Resume after this event id (from an earlier stream) rather than from now.</summary>
    public string? LastEventId { get; init; }

    /// <summary>The server sends a comment after 15 s of silence; nothing for this long means the connection is dead and is replaced.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>The longest wait before reconnecting when the server gave no <c>retry</c> (the backoff doubles from 1 s up to it).</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Told of each connection, loss and reconnection, for a notice to the user.</summary>
    public Action<StreamConnectionEvent>? OnConnectionEvent { get; init; }
}

/// <summary>What happened to the stream's connection.</summary>
public enum StreamConnectionState
{
    /// <summary>The first connection is open.</summary>
    Connected,

    /// <summary>A later connection is open, resuming after <see cref="StreamConnectionEvent.LastEventId"/>.</summary>
    Reconnected,

    /// <summary>The connection failed or fell silent; a reconnection follows after <see cref="StreamConnectionEvent.Delay"/>.</summary>
    Lost,

    /// <summary>The server ended the stream (or dropped this client); a reconnection follows after <see cref="StreamConnectionEvent.Delay"/>.</summary>
    Ended,
}

/// <summary>A change of the stream's connection.</summary>
/// <param name="State">What happened.</param>
/// <param name="Url">The stream's URL.</param>
/// <param name="LastEventId">The last event id received, which a reconnection resumes after.</param>
/// <param name="Delay">For <see cref="StreamConnectionState.Lost"/> and <see cref="StreamConnectionState.Ended"/>: the wait before reconnecting.</param>
/// <param name="Reason">For <see cref="StreamConnectionState.Lost"/>: why.</param>
public sealed record StreamConnectionEvent(StreamConnectionState State, Uri Url, string? LastEventId, TimeSpan? Delay, string? Reason);

/// <summary>One event of the live stream. Match on the derived types: <see cref="ScoreEvent"/>, <see cref="AlertEvent"/>, <see cref="IncidentEvent"/>, <see cref="ResetEvent"/>, <see cref="DroppedEvent"/>.</summary>
/// <param name="Id">Its id (<c>{epoch}-{n}</c>), which a reconnection resumes after; null for reset and dropped.</param>
/// <param name="Type">The SSE event name: score, alert, incident, reset, dropped, or one this client does not know.</param>
/// <param name="Data">The event's JSON, as sent.</param>
public abstract record StreamEvent(string? Id, string Type, string Data);

/// <summary>An entity's score changed (its own or inherited events); at most every 250 ms per entity.</summary>
/// <param name="Id">The event id.</param>
/// <param name="Data">The JSON.</param>
/// <param name="Score">The new scores.</param>
public sealed record ScoreEvent(string? Id, string Data, ScoreUpdate Score) : StreamEvent(Id, "score", Data);

/// <summary>An alert rule fired.</summary>
/// <param name="Id">The event id.</param>
/// <param name="Data">The JSON.</param>
/// <param name="Alert">The alert.</param>
public sealed record AlertEvent(string? Id, string Data, AlertNotice Alert) : StreamEvent(Id, "alert", Data);

/// <summary>Spike detection declared or resolved an incident: the incident event, as in an entity's events.</summary>
/// <param name="Id">The event id.</param>
/// <param name="Data">The JSON.</param>
/// <param name="Incident">The incident event (its <see cref="LoggedEvent.Sequence"/> is 0: the stream does not carry it).</param>
public sealed record IncidentEvent(string? Id, string Data, LoggedEvent Incident) : StreamEvent(Id, "incident", Data);

/// <summary>The stream could not resume from the given event id: reload the current state, then go on.</summary>
/// <param name="Data">The JSON.</param>
/// <param name="Reason">Why.</param>
public sealed record ResetEvent(string Data, string Reason) : StreamEvent(null, "reset", Data);

/// <summary>This client fell too far behind and the server dropped it; the stream reconnects and resumes by itself.</summary>
/// <param name="Data">The JSON.</param>
/// <param name="Reason">Why.</param>
public sealed record DroppedEvent(string Data, string Reason) : StreamEvent(null, "dropped", Data);

/// <summary>An event type this client does not know (from a newer server).</summary>
/// <param name="Id">The event id.</param>
/// <param name="Type">The SSE event name.</param>
/// <param name="Data">The data, as sent.</param>
public sealed record UnknownEvent(string? Id, string Type, string Data) : StreamEvent(Id, Type, Data);

/// <summary>An entity's scores after a change.</summary>
/// <param name="Entity">The entity id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="At">The instant.</param>
/// <param name="Score">The score.</param>
/// <param name="Direct">From its own events.</param>
/// <param name="Inherited">Through links.</param>
/// <param name="Categories">Per category.</param>
/// <param name="Regions">Per region.</param>
public sealed record ScoreUpdate(string Entity, string Name, string Kind, DateTimeOffset At, double Score, double Direct, double Inherited,
    IReadOnlyDictionary<string, double> Categories, IReadOnlyDictionary<string, double> Regions);

/// <summary>An alert as the stream announces it.</summary>
/// <param name="Id">The alert id.</param>
/// <param name="Rule">The rule id.</param>
/// <param name="Target">What fired.</param>
/// <param name="Metric">The metric.</param>
/// <param name="Entity">The entity, when not a group rule.</param>
/// <param name="Group">The group, for a group rule.</param>
/// <param name="Value">The metric's value.</param>
/// <param name="Threshold">The rule's threshold.</param>
/// <param name="At">The instant.</param>
public sealed record AlertNotice(string Id, string Rule, string Target, string Metric, string? Entity, string? Group, double Value, double Threshold, DateTimeOffset At);

/// <summary>One raw Server-Sent Event.</summary>
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
                throw new TimeoutException($"nothing received for {idle.TotalSeconds:0} s");
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

/// <summary>Turns raw SSE messages into typed stream events.</summary>
internal static class StreamEvents
{
    public static StreamEvent From(SseMessage message, JsonSerializerOptions json)
    {
        var type = message.Event ?? "message";
        try
        {
            return type switch
            {
                "score" => new ScoreEvent(message.Id, message.Data, Parse<ScoreUpdate>(message.Data, json)),
                "alert" => new AlertEvent(message.Id, message.Data, Parse<AlertNotice>(message.Data, json)),
                "incident" => new IncidentEvent(message.Id, message.Data, Parse<LoggedEvent>(message.Data, json)),
                "reset" => new ResetEvent(message.Data, Reason(message.Data)),
                "dropped" => new DroppedEvent(message.Data, Reason(message.Data)),
                _ => new UnknownEvent(message.Id, type, message.Data),
            };
        }
        catch (JsonException)
        {
            return new UnknownEvent(message.Id, type, message.Data);
        }
    }

    private static T Parse<T>(string data, JsonSerializerOptions json) =>
        JsonSerializer.Deserialize<T>(data, json) ?? throw new JsonException("null");

    private static string Reason(string data)
    {
        using var document = JsonDocument.Parse(data);
        return document.RootElement.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() ?? "" : "";
    }
}
