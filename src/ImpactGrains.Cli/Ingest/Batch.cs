namespace ImpactGrains.Cli.Ingest;

/// <summary>An event refused by the server or unreadable in the file: its 0-based index among the file's events.</summary>
internal sealed record Rejection(long Index, long Line, string? Id, string Error);

/// <summary>
/// A run of consecutive events from one file, as one NDJSON body. It knows where in the file it ends, so that once the
/// server has acknowledged it (and every batch before it) the checkpoint can move past it.
/// </summary>
internal sealed class Batch(long number, long firstIndex)
{
    private byte[] body = new byte[64 * 1024];
    private readonly List<int> starts = [];
    private readonly List<(long Index, long Line)> events = [];

    public long Number { get; } = number;

    /// <summary>The file index of the first event after this batch (and the local rejections in it).</summary>
    public long NextIndex { get; private set; } = firstIndex;

    public long EndOffset { get; private set; }

    public long EndLine { get; private set; }

    public int Count => starts.Count;

    /// <summary>Events and local rejections: how many file events this batch accounts for.</summary>
    public long Total { get; private set; }

    public int Bytes { get; private set; }

    public List<Rejection> LocalRejections { get; } = [];

    public void Add(in SourceEvent item)
    {
        var index = NextIndex++;
        Total++;
        EndOffset = item.EndOffset;
        EndLine = item.EndLine;
        if (item.Error is not null)
        {
            LocalRejections.Add(new Rejection(index, item.Line, item.Id, item.Error));
            return;
        }

        var needed = Bytes + item.Json.Length + 1;
        if (needed > body.Length)
        {
            Array.Resize(ref body, Math.Max(needed, body.Length * 2));
        }

        starts.Add(Bytes);
        events.Add((index, item.Line));
        item.Json.Span.CopyTo(body.AsSpan(Bytes));
        Bytes += item.Json.Length;
        body[Bytes++] = (byte)'\n';
    }

    /// <summary>The NDJSON body of events [from, to).</summary>
    public ReadOnlyMemory<byte> Body(int from, int to)
    {
        var start = starts[from];
        var end = to == starts.Count ? Bytes : starts[to];
        return body.AsMemory(start, end - start);
    }

    /// <summary>The file index and line of the event at <paramref name="position"/> in this batch.</summary>
    public (long Index, long Line) Event(int position) => events[position];
}

/// <summary>What the server said about a batch.</summary>
internal sealed class BatchOutcome
{
    public long Accepted { get; set; }

    public long Duplicates { get; set; }

    public List<Rejection> Rejected { get; } = [];
}
