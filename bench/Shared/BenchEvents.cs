using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ImpactGrains.Bench;

/// <summary>
/// The events every benchmark sends: the same mix of types for our server, the naive PostgreSQL peer and the
/// micro-benchmarks. Entities are drawn uniformly, or skewed (a hot set of 1% of the entities gets half the events).
/// Events occur "now" minus a little jitter, so they arrive roughly in time order, as a live feed's do.
/// </summary>
public sealed class BenchEvents(string runId, int entities, bool skewed, int seed)
{
    private static readonly string[] Regions = ["US", "DE", "FR", "GB", "JP", "GLOBAL"];
    private static readonly string[] Severities = ["minor", "major", "critical"];
    private readonly Random random = new(seed);
    private long next;

    public int Entities => entities;

    public static string EntityId(string runId, int index) => $"b{runId}-{index}";

    /// <summary>The index of the entity the next event goes to.</summary>
    public int NextEntity()
    {
        var hot = Math.Max(1, entities / 100);
        return skewed && random.Next(2) == 0 ? random.Next(hot) : random.Next(entities);
    }

    /// <summary>A JSON array of <paramref name="count"/> new events, as POST /api/events takes it.</summary>
    public byte[] Batch(int count, DateTimeOffset now)
    {
        var buffer = new ArrayBufferWriter<byte>(count * 200);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var i = 0; i < count; i++)
            {
                Write(writer, Next(now));
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public BenchEvent Next(DateTimeOffset now)
    {
        var n = Interlocked.Increment(ref next);
        var entity = EntityId(runId, NextEntity());
        var occurred = now.AddMilliseconds(-random.Next(2000));
        var region = Regions[random.Next(Regions.Length)];
        var kind = random.Next(4);
        var (type, data, impact) = kind switch
        {
            0 => ("outage", $"{{\"reports\":{100 + random.Next(50)},\"baselineReports\":100}}", 1.0),
            1 => ("stock-change", string.Create(CultureInfo.InvariantCulture, $"{{\"percent\":{-random.Next(1, 20)}.5}}"), 2.0),
            2 => ("statement", $"{{\"severity\":\"{Severities[random.Next(3)]}\"}}", 1.0),
            _ => ("sales-change", string.Create(CultureInfo.InvariantCulture, $"{{\"percent\":{-random.Next(1, 30)}}}"), 3.0),
        };
        return new BenchEvent($"{runId}-{seed}-{n}", entity, type, occurred, region, data, impact);
    }

    public static void Write(Utf8JsonWriter writer, BenchEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString("id", e.Id);
        writer.WriteString("entity", e.Entity);
        writer.WriteString("type", e.Type);
        writer.WriteString("occurredAt", e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        writer.WriteString("region", e.Region);
        writer.WriteNumber("confidence", 0.9);
        writer.WritePropertyName("data");
        writer.WriteRawValue(e.DataJson, skipInputValidation: true);
        writer.WriteEndObject();
    }

    public static string ToJson(BenchEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, e);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>One generated event; <see cref="Severity"/> is the rough weight the naive peer adds to its aggregate.</summary>
public sealed record BenchEvent(string Id, string Entity, string Type, DateTimeOffset OccurredAt, string Region, string DataJson, double Severity);
