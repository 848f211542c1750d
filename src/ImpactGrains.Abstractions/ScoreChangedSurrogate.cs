namespace ImpactGrains.Abstractions;

/// <summary>
/// How a <see cref="ScoreChanged"/> crosses between silos: its scores by category and region as one array of our own
/// encoding instead of two dictionaries in Orleans' generic codec. Every changed entity's score goes from its partition
/// to the live feed grain and from there to every other silo, several times a second under load (docs/scaling.md).
/// Live only, never persisted.
/// </summary>
[GenerateSerializer]
public struct ScoreChangedSurrogate
{
    [Id(0)] public string EntityId;
    [Id(1)] public string Name;
    [Id(2)] public string Kind;
    [Id(3)] public long WhenTicks;
    [Id(4)] public short WhenOffsetMinutes;
    [Id(5)] public double Score;
    [Id(6)] public double Direct;
    [Id(7)] public double Inherited;
    [Id(8)] public byte[] Breakdown;
}

[RegisterConverter]
public sealed class ScoreChangedConverter : IConverter<ScoreChanged, ScoreChangedSurrogate>
{
    public ScoreChanged ConvertFromSurrogate(in ScoreChangedSurrogate surrogate)
    {
        using var reader = new BinaryReader(new MemoryStream(surrogate.Breakdown, writable: false), System.Text.Encoding.UTF8);
        var categories = ReadScores(reader);
        var regions = ReadScores(reader);
        return new ScoreChanged(surrogate.EntityId, surrogate.Name, surrogate.Kind,
            new DateTimeOffset(surrogate.WhenTicks, TimeSpan.FromMinutes(surrogate.WhenOffsetMinutes)),
            surrogate.Score, surrogate.Direct, surrogate.Inherited, categories, regions);
    }

    public ScoreChangedSurrogate ConvertToSurrogate(in ScoreChanged value)
    {
        using var stream = new MemoryStream(16 + (value.Categories.Count + value.Regions.Count) * 16);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            WriteScores(writer, value.Categories);
            WriteScores(writer, value.Regions);
        }

        return new ScoreChangedSurrogate
        {
            EntityId = value.EntityId,
            Name = value.Name,
            Kind = value.Kind,
            WhenTicks = value.When.Ticks,
            WhenOffsetMinutes = (short)value.When.Offset.TotalMinutes,
            Score = value.Score,
            Direct = value.Direct,
            Inherited = value.Inherited,
            Breakdown = stream.ToArray(),
        };
    }

    private static void WriteScores(BinaryWriter writer, IReadOnlyDictionary<string, double> scores)
    {
        writer.Write7BitEncodedInt(scores.Count);
        foreach (var (key, score) in scores)
        {
            writer.Write(key);
            writer.Write(score);
        }
    }

    // In the order written, which is the order the stream's JSON lists them in.
    private static Dictionary<string, double> ReadScores(BinaryReader reader)
    {
        var count = reader.Read7BitEncodedInt();
        var scores = new Dictionary<string, double>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            scores.Add(reader.ReadString(), reader.ReadDouble());
        }

        return scores;
    }
}
