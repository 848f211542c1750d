using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImpactGrains.Cli.Ingest;

/// <summary>
/// The progress of one input file, kept next to it as <c>FILE.impact-progress</c>: the byte offset, line and event
/// index after the last batch the server acknowledged (with every batch before it), the counts so far, and how long the
/// rejected file was then. It is valid only for the same file (length and modification time) and the same server URL.
/// </summary>
internal sealed record Checkpoint
{
    public const string Suffix = ".impact-progress";
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public required string Url { get; init; }

    public required long FileLength { get; init; }

    public required DateTime FileModified { get; init; }

    public long Offset { get; init; }

    public long Line { get; init; }

    public long Index { get; init; }

    public long Accepted { get; init; }

    public long Duplicates { get; init; }

    public long Rejected { get; init; }

    public long RejectedFileLength { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public static string PathFor(string input) => input + Suffix;

    public bool Matches(FileInfo file, string url) =>
        Version == CurrentVersion && Url == url && FileLength == file.Length && FileModified == file.LastWriteTimeUtc && Offset <= file.Length;

    public static Checkpoint? Load(string input)
    {
        var path = PathFor(input);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), CheckpointJson.Default.Checkpoint);
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            return null; // unreadable: start over, which is safe
        }
    }

    /// <summary>Writes atomically (a temporary file, then a rename), so that a kill never leaves half a checkpoint.</summary>
    public void Save(string input)
    {
        var path = PathFor(input);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, CheckpointJson.Default.Checkpoint));
        File.Move(temporary, path, overwrite: true);
    }

    public static void Delete(string input)
    {
        File.Delete(PathFor(input));
        File.Delete(PathFor(input) + ".tmp");
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(Checkpoint))]
internal sealed partial class CheckpointJson : JsonSerializerContext;
