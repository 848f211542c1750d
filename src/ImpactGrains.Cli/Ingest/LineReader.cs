namespace ImpactGrains.Cli.Ingest;

/// <summary>
/// Reads a file line by line as UTF-8 bytes from a byte offset, keeping the offset after each line, so that a
/// checkpoint can say exactly where to go on. A line ends at <c>\n</c>; a <c>\r</c> before it is dropped.
/// </summary>
internal sealed class LineReader : IDisposable
{
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private readonly FileStream stream;
    private byte[] buffer = new byte[1 << 16];
    private int start;
    private int end;
    private long bufferOffset;
    private bool endOfFile;

    public LineReader(string path, long offset = 0, long lineNumber = 0)
    {
        stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        if (offset > 0)
        {
            stream.Seek(offset, SeekOrigin.Begin);
        }

        bufferOffset = offset;
        LineNumber = lineNumber;
    }

    public long Length => stream.Length;

    /// <summary>The 1-based number of the last line read (0 before the first).</summary>
    public long LineNumber { get; private set; }

    /// <summary>The byte offset just after the last line read.</summary>
    public long Offset => bufferOffset + start;

    /// <summary>The next line, valid until the next call; false at the end of the file.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = Take(newline, newline + 1);
                return true;
            }

            if (endOfFile)
            {
                if (end > start)
                {
                    line = Take(end - start, end - start);
                    return true;
                }

                line = default;
                return false;
            }

            Fill();
        }
    }

    private ReadOnlySpan<byte> Take(int length, int consumed)
    {
        var line = buffer.AsSpan(start, length);
        if (Offset == 0 && line.StartsWith(Bom))
        {
            line = line[Bom.Length..];
        }

        start += consumed;
        LineNumber++;
        return line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
    }

    private void Fill()
    {
        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            bufferOffset += start;
            end -= start;
            start = 0;
        }

        if (end == buffer.Length)
        {
            Array.Resize(ref buffer, buffer.Length * 2);
        }

        var read = stream.Read(buffer, end, buffer.Length - end);
        if (read == 0)
        {
            endOfFile = true;
        }
        else
        {
            end += read;
        }
    }

    public void Dispose() => stream.Dispose();
}
