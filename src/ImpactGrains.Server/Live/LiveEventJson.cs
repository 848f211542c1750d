using System.Buffers;
using System.Text.Json;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Validation;

namespace ImpactGrains.Server.Live;

/// <summary>
/// The JSON of the live feed's events, written once, at the edge, for the stream's clients (docs/api.md#live-stream):
/// a score as {entity, name, kind, at, score, direct, inherited, categories, regions}, an incident as the event the log
/// holds, an alert as {id, rule, target, metric, entity, group, value, threshold, at}.
/// </summary>
public static class LiveEventJson
{
    public static void Write(IBufferWriter<byte> output, LiveEvent e)
    {
        using var writer = new Utf8JsonWriter(output);
        switch (e)
        {
            case ScoreChanged s:
                writer.WriteStartObject();
                writer.WriteString("entity", s.EntityId);
                writer.WriteString("name", s.Name);
                writer.WriteString("kind", s.Kind);
                writer.WriteString("at", s.When);
                writer.WriteNumber("score", s.Score);
                writer.WriteNumber("direct", s.Direct);
                writer.WriteNumber("inherited", s.Inherited);
                WriteMap(writer, "categories", s.Categories);
                WriteMap(writer, "regions", s.Regions);
                writer.WriteEndObject();
                break;
            case IncidentLogged i:
                EventJson.Write(writer, i.ToEvent());
                break;
            case AlertFired a:
                writer.WriteStartObject();
                writer.WriteString("id", a.AlertId);
                writer.WriteString("rule", a.Rule);
                writer.WriteString("target", a.Target);
                writer.WriteString("metric", a.Metric);
                writer.WriteString("entity", a.AlertEntity);
                writer.WriteString("group", a.AlertGroup);
                writer.WriteNumber("value", a.Value);
                writer.WriteNumber("threshold", a.Threshold);
                writer.WriteString("at", a.When);
                writer.WriteEndObject();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "unknown live event");
        }
    }

    public static string ToJson(LiveEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, e);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteMap(Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, double> values)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            writer.WriteNumber(key, value);
        }

        writer.WriteEndObject();
    }
}
