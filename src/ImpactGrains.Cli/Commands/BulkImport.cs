using System.Text.Json;
using ImpactGrains.Client;
using Spectre.Console;

namespace ImpactGrains.Cli.Commands;

/// <summary>
/// <c>entities import</c> and <c>links import</c>: an NDJSON file sent in chunks to the bulk routes. Each chunk is one
/// transaction on the server; a line that is not JSON, or that the server refuses, is reported with its line number and
/// the rest is stored, so that a fixed file can simply be imported again (the routes are idempotent).
/// </summary>
internal static class BulkImport
{
    /// <summary>Items per request: large enough to amortise the round trip, small enough for the body limit.</summary>
    private const int ChunkSize = 5000;

    /// <summary>Rejections listed on standard error before the rest is only counted.</summary>
    private const int ListedRejections = 20;

    public static async Task<int> RunAsync<T>(CommandContext context, string path, string singular, string plural,
        Func<IEnumerable<T>, CancellationToken, Task<BulkResult>> send, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new CliFailure($"{path}: no such file");
        }

        var rejections = new List<(long Line, string Error)>();
        long upserted = 0;
        var chunk = new List<T>(ChunkSize);
        var lines = new List<long>(ChunkSize);

        async Task FlushAsync()
        {
            if (chunk.Count == 0)
            {
                return;
            }

            var result = await send(chunk, cancellationToken);
            upserted += result.Upserted;
            rejections.AddRange(result.Rejected.Select(r => (lines[r.Index], r.Id is null ? r.Error : $"{r.Id}: {r.Error}")));
            chunk.Clear();
            lines.Clear();
        }

        long number = 0;
        using (var reader = new StreamReader(path))
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                number++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                T? item;
                try
                {
                    item = JsonSerializer.Deserialize<T>(line, ImpactClient.JsonOptions);
                }
                catch (JsonException e)
                {
                    rejections.Add((number, $"not a valid {singular}: {e.Message}"));
                    continue;
                }

                if (item is null)
                {
                    rejections.Add((number, "null"));
                    continue;
                }

                chunk.Add(item);
                lines.Add(number);
                if (chunk.Count == ChunkSize)
                {
                    await FlushAsync();
                }
            }
        }

        await FlushAsync();
        context.Out.MarkupLine($"imported {Format.Count(upserted)} {(upserted == 1 ? singular : plural)} from {Format.Escape(path)}");
        if (rejections.Count == 0)
        {
            return ImpactCli.Ok;
        }

        foreach (var (line, error) in rejections.OrderBy(r => r.Line).Take(ListedRejections))
        {
            context.Environment.WriteError($"{path}:{line}: {error}");
        }

        if (rejections.Count > ListedRejections)
        {
            context.Environment.WriteError($"… and {rejections.Count - ListedRejections:N0} more");
        }

        context.Environment.WriteError($"error: {rejections.Count:N0} line{(rejections.Count == 1 ? "" : "s")} of {path} rejected");
        return ImpactCli.Failure;
    }
}
