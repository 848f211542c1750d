using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using ImpactGrains.Cli.Ingest;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ImpactGrains.Cli.Commands;

/// <summary>
/// <c>impact ingest FILE...</c>: streams NDJSON or CSV events to <c>POST /api/events</c> in batches, with a progress
/// bar, retries, a checkpoint per file to resume after an interruption, a summary table and a file of rejected events.
/// </summary>
internal static class IngestCommand
{
    public static Command Build(CliEnvironment environment)
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "NDJSON (one event per line) or CSV (a header row: id,entity,type,occurredAt,region,confidence,source,data.*) files",
            Arity = ArgumentArity.OneOrMore,
        };
        var format = new Option<string>("--format")
        {
            Description = "auto (CSV for *.csv, NDJSON otherwise), ndjson or csv",
            DefaultValueFactory = _ => "auto",
        };
        format.AcceptOnlyFromAmong("auto", "ndjson", "csv");
        var batchSize = new Option<int>("--batch-size") { Description = "Events per request (1–10000)", DefaultValueFactory = _ => 1000 };
        var batchBytes = new Option<int>("--batch-bytes") { Description = "Bytes per request at most (1024–16777216)", DefaultValueFactory = _ => 1 << 20 };
        var parallel = new Option<int>("--parallel") { Description = "Requests in flight at once (1–16)", DefaultValueFactory = _ => 2 };
        var restart = new Option<bool>("--restart") { Description = "Ignore the checkpoint (FILE.impact-progress) and send the whole file" };
        var retryFor = new Option<int>("--retry-for")
        {
            Description = "Seconds to keep retrying one request on 429, 503 and network failures before giving up",
            DefaultValueFactory = _ => 300,
        };
        var noProgress = new Option<bool>("--no-progress") { Description = "No progress bar" };

        var command = new Command("ingest", "Send events from NDJSON or CSV files, resuming where an interrupted run stopped")
        {
            files, format, batchSize, batchBytes, parallel, restart, retryFor, noProgress,
        };
        command.SetHandler(environment, async (context, cancellationToken) =>
        {
            var settings = new Settings(
                context.Get(format) ?? "auto",
                Check(context.Get(batchSize), 1, 10_000, "--batch-size"),
                Check(context.Get(batchBytes), 1024, 16 << 20, "--batch-bytes"),
                Check(context.Get(parallel), 1, 16, "--parallel"),
                context.Get(restart),
                TimeSpan.FromSeconds(Check(context.Get(retryFor), 0, 86_400, "--retry-for")),
                !context.Get(noProgress) && environment.ShowProgress && environment.Out.Profile.Capabilities.Interactive);
            return await new Ingestion(context, settings).RunAsync(context.Get(files) ?? [], cancellationToken);
        });
        return command;
    }

    private static int Check(int value, int min, int max, string name) =>
        value >= min && value <= max ? value : throw new UsageException($"{name}: must be a whole number from {min} to {max}");

    private static readonly JsonWriterOptions RejectedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal sealed record Settings(string Format, int BatchSize, int BatchBytes, int Parallel, bool Restart, TimeSpan RetryFor, bool Progress);

    /// <summary>What one file's run did.</summary>
    internal sealed class FileRun(string path)
    {
        public string Path { get; } = path;

        public long Skipped { get; set; }

        public long ResumedLine { get; set; }

        public long Accepted { get; set; }

        public long Duplicates { get; set; }

        public long Rejected { get; set; }

        public long Events => Accepted + Duplicates + Rejected;

        public long RejectedBefore { get; set; }

        public TimeSpan Elapsed { get; set; }

        public bool Complete { get; set; }
    }

    private sealed class Ingestion(CommandContext context, Settings settings)
    {
        private readonly IAnsiConsole console = context.Out;
        private readonly List<FileRun> runs = [];
        private ProgressTask? task;
        private DateTime lastReport = DateTime.UtcNow;
        private long acknowledgedLine;
        private bool checkpointWarned;

        public async Task<int> RunAsync(string[] paths, CancellationToken cancellationToken)
        {
            foreach (var path in paths)
            {
                if (!File.Exists(path))
                {
                    throw new CliFailure(Directory.Exists(path) ? $"{path}: is a directory, not a file" : $"{path}: no such file");
                }
            }

            // 429 and 503 are retried by the client's pipeline for up to --retry-for, as the progress shows.
            var api = context.CreateApi(o =>
            {
                o.MaxRetries = int.MaxValue;
                o.MaxRetryDuration = settings.RetryFor;
                o.OnRetry = retry => Retrying($"{retry.Error.Message}; retry {retry.Attempt} in {Format.Duration(retry.Delay)}");
            });
            var sender = new EventSender(api, settings.RetryFor, Retrying);
            var stopped = 0;
            try
            {
                if (settings.Progress)
                {
                    await new Progress(console)
                        .AutoClear(false)
                        .HideCompleted(false)
                        .Columns(
                            new TaskDescriptionColumn(),
                            new ProgressBarColumn(),
                            new PercentageColumn(),
                            new EventRateColumn(),
                            new RemainingTimeColumn(),
                            new SpinnerColumn())
                        .StartAsync(async progress =>
                        {
                            foreach (var path in paths)
                            {
                                task = progress.AddTask(Format.Escape(System.IO.Path.GetFileName(path)), autoStart: false);
                                await IngestFileAsync(path, sender, cancellationToken);
                            }
                        });
                }
                else
                {
                    foreach (var path in paths)
                    {
                        await IngestFileAsync(path, sender, cancellationToken);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                stopped = ImpactCli.Interrupted;
            }
            catch (CliFailure)
            {
                WriteSummary();
                throw;
            }

            WriteSummary();
            if (stopped != 0)
            {
                var last = runs.LastOrDefault();
                context.Environment.WriteError(last is null
                    ? "interrupted"
                    : $"interrupted: {last.Path} is acknowledged up to its checkpoint {Checkpoint.PathFor(last.Path)}; run the same command again to resume");
            }

            return stopped;
        }

        private void Retrying(string message)
        {
            if (task is not null)
            {
                task.Description = $"{Format.Escape(System.IO.Path.GetFileName(runs[^1].Path))} [yellow]{Format.Escape(message)}[/]";
            }
            else
            {
                context.Environment.WriteError($"notice: {message}");
            }
        }

        private async Task IngestFileAsync(string path, EventSender sender, CancellationToken cancellationToken)
        {
            var run = new FileRun(path);
            runs.Add(run);
            var file = new FileInfo(path);
            var url = context.BaseAddress.ToString();
            var csv = InputFormat.IsCsv(path, settings.Format);
            var checkpoint = settings.Restart ? null : Checkpoint.Load(path);
            if (settings.Restart)
            {
                Checkpoint.Delete(path);
            }
            else if (checkpoint is not null && !checkpoint.Matches(file, url))
            {
                Notice($"{path}: the file or the server changed since its checkpoint; sending it from the start");
                checkpoint = null;
            }

            var rejectedPath = path + ".rejected.ndjson";
            FileStream? rejectedFile = null;
            if (checkpoint is null)
            {
                File.Delete(rejectedPath);
            }
            else
            {
                run.Skipped = checkpoint.Index;
                run.ResumedLine = checkpoint.Line;
                run.RejectedBefore = checkpoint.Rejected;
                if (File.Exists(rejectedPath))
                {
                    rejectedFile = new FileStream(rejectedPath, FileMode.Open, FileAccess.Write, FileShare.Read);
                    rejectedFile.SetLength(Math.Min(rejectedFile.Length, checkpoint.RejectedFileLength));
                    rejectedFile.Seek(0, SeekOrigin.End);
                }

                if (!settings.Progress)
                {
                    Notice($"{path}: resuming after line {checkpoint.Line} ({Format.Count(checkpoint.Index)} events acknowledged before)");
                }
            }

            var startOffset = checkpoint?.Offset ?? 0;
            acknowledgedLine = checkpoint?.Line ?? 0;
            var acknowledgedOffset = startOffset;
            var watch = Stopwatch.StartNew();
            using var source = InputFormat.Open(path, csv, startOffset, checkpoint?.Line ?? 0);
            var title = Format.Escape(System.IO.Path.GetFileName(path)) + (checkpoint is null ? "" : $" [grey](resumed after line {checkpoint.Line})[/]");
            if (task is not null)
            {
                task.Description = title;
                task.MaxValue = Math.Max(1, source.Length - startOffset);
                task.State.Update<double>("events", _ => 0);
                task.StartTask();
            }

            // Sends get a few seconds after Ctrl+C to finish, so that what the server stored is checkpointed.
            using var sends = new CancellationTokenSource();
            using var grace = cancellationToken.Register(() => sends.CancelAfter(TimeSpan.FromSeconds(3)));
            var inflight = new Queue<(Batch Batch, Task<BatchOutcome> Outcome)>();
            var reader = new BatchReader(source, settings.BatchSize, settings.BatchBytes, checkpoint?.Index ?? 0);
            try
            {
                try
                {
                    while (!cancellationToken.IsCancellationRequested && reader.TryRead(out var batch))
                    {
                        while (inflight.Count >= settings.Parallel)
                        {
                            await CommitNextAsync();
                        }

                        inflight.Enqueue((batch, sender.SendAsync(batch, sends.Token)));
                    }

                    while (inflight.Count > 0)
                    {
                        await CommitNextAsync();
                    }
                }
                finally
                {
                    if (inflight.Count > 0)
                    {
                        sends.Cancel();
                        try
                        {
                            await Task.WhenAll(inflight.Select(i => i.Outcome));
                        }
                        catch (Exception)
                        {
                            // the first failure is already on its way up
                        }
                    }

                    run.Elapsed = watch.Elapsed;
                    rejectedFile?.Dispose();
                }

                cancellationToken.ThrowIfCancellationRequested();
            }
            catch (CliFailure e)
            {
                throw new CliFailure($"{path}: {e.Message}; the server has acknowledged the file up to line {acknowledgedLine}, rerun to resume");
            }

            run.Complete = true;
            try
            {
                Checkpoint.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Notice($"{path}: cannot remove the checkpoint ({e.Message})");
            }

            if (task is not null)
            {
                task.Description = Format.Escape(System.IO.Path.GetFileName(path));
                task.Value = task.MaxValue;
                task.StopTask();
            }

            return;

            async Task CommitNextAsync()
            {
                var (batch, pending) = inflight.Peek();
                var outcome = await pending;
                inflight.Dequeue();
                run.Accepted += outcome.Accepted;
                run.Duplicates += outcome.Duplicates;
                var rejections = batch.LocalRejections.Concat(outcome.Rejected).OrderBy(r => r.Index).ToList();
                run.Rejected += rejections.Count;
                if (rejections.Count > 0)
                {
                    rejectedFile ??= new FileStream(rejectedPath, FileMode.Create, FileAccess.Write, FileShare.Read);
                    foreach (var rejection in rejections)
                    {
                        using (var writer = new Utf8JsonWriter(rejectedFile, RejectedJson))
                        {
                            writer.WriteStartObject();
                            writer.WriteNumber("index", rejection.Index);
                            writer.WriteNumber("line", rejection.Line);
                            writer.WriteString("id", rejection.Id);
                            writer.WriteString("error", rejection.Error);
                            writer.WriteEndObject();
                        }

                        rejectedFile.WriteByte((byte)'\n');
                    }

                    rejectedFile.Flush();
                }

                acknowledgedLine = batch.EndLine;
                try
                {
                    new Checkpoint
                    {
                        Url = url,
                        FileLength = file.Length,
                        FileModified = file.LastWriteTimeUtc,
                        Offset = batch.EndOffset,
                        Line = batch.EndLine,
                        Index = batch.NextIndex,
                        Accepted = (checkpoint?.Accepted ?? 0) + run.Accepted,
                        Duplicates = (checkpoint?.Duplicates ?? 0) + run.Duplicates,
                        Rejected = (checkpoint?.Rejected ?? 0) + run.Rejected,
                        RejectedFileLength = rejectedFile?.Length ?? 0,
                        UpdatedAt = DateTimeOffset.UtcNow,
                    }.Save(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    if (!checkpointWarned)
                    {
                        checkpointWarned = true;
                        Notice($"{path}: cannot write the checkpoint ({e.Message}); an interrupted run will start over");
                    }
                }

                if (task is not null)
                {
                    task.Description = title; // clears a retry notice
                    task.Increment(batch.EndOffset - acknowledgedOffset);
                    task.State.Update<double>("events", e => e + batch.Total);
                }
                else if (DateTime.UtcNow - lastReport > TimeSpan.FromSeconds(10))
                {
                    lastReport = DateTime.UtcNow;
                    var rate = run.Events / Math.Max(0.001, watch.Elapsed.TotalSeconds);
                    var share = source.Length == 0 ? 1 : (double)batch.EndOffset / source.Length;
                    Notice($"{path}: {Format.Count(run.Events)} events, {share * 100:0}%, {rate:0} events/s");
                }

                acknowledgedOffset = batch.EndOffset;
            }
        }

        private void Notice(string message) => context.Environment.Error.WriteLine(CliEnvironment.OneLine(message));

        private void WriteSummary()
        {
            if (runs.Count == 0)
            {
                return;
            }

            var table = new Table().Border(TableBorder.Rounded).Title("Ingest summary");
            table.AddColumn("File");
            foreach (var column in new[] { "Events", "Accepted", "Duplicates", "Rejected", "Time", "Events/s" })
            {
                table.AddColumn(new TableColumn(column).RightAligned());
            }

            foreach (var run in runs)
            {
                table.AddRow(
                    Format.Escape(System.IO.Path.GetFileName(run.Path)) + (run.Complete ? "" : " [yellow](interrupted)[/]"),
                    Format.Count(run.Events),
                    Format.Count(run.Accepted),
                    Format.Count(run.Duplicates),
                    run.Rejected > 0 ? $"[red]{Format.Count(run.Rejected)}[/]" : "0",
                    Format.Duration(run.Elapsed),
                    Format.Count((long)(run.Events / Math.Max(0.001, run.Elapsed.TotalSeconds))));
            }

            if (runs.Count > 1)
            {
                var elapsed = TimeSpan.FromTicks(runs.Sum(r => r.Elapsed.Ticks));
                var events = runs.Sum(r => r.Events);
                table.AddRow(
                    "[bold]Total[/]",
                    Format.Count(events),
                    Format.Count(runs.Sum(r => r.Accepted)),
                    Format.Count(runs.Sum(r => r.Duplicates)),
                    Format.Count(runs.Sum(r => r.Rejected)),
                    Format.Duration(elapsed),
                    Format.Count((long)(events / Math.Max(0.001, elapsed.TotalSeconds))));
            }

            console.Write(table);
            foreach (var run in runs.Where(r => r.Rejected + r.RejectedBefore > 0))
            {
                console.MarkupLine($"Rejected events of {Format.Escape(run.Path)}, with the reasons: {Format.Escape(run.Path + ".rejected.ndjson")}");
            }

            foreach (var run in runs.Where(r => r.Skipped > 0))
            {
                console.MarkupLine($"{Format.Escape(run.Path)}: resumed after line {run.ResumedLine}; {Format.Count(run.Skipped)} events were acknowledged by an earlier run");
            }
        }
    }

    /// <summary>Groups a file's events into batches of at most so many events and bytes.</summary>
    private sealed class BatchReader(IEventSource source, int maxEvents, int maxBytes, long firstIndex)
    {
        private long next = firstIndex;
        private long number;
        private bool pending;
        private SourceEvent pendingItem;

        public bool TryRead(out Batch batch)
        {
            batch = new Batch(number++, next);
            if (pending)
            {
                batch.Add(pendingItem);
                pending = false;
            }

            while (source.TryRead(out var item))
            {
                if (batch.Count > 0 && item.Error is null && (batch.Count >= maxEvents || batch.Bytes + item.Json.Length + 1 > maxBytes))
                {
                    pendingItem = item;
                    pending = true;
                    break;
                }

                batch.Add(item);
            }

            next = batch.NextIndex;
            return batch.Total > 0;
        }
    }

    /// <summary>Events acknowledged so far and the rate, for the progress bar.</summary>
    private sealed class EventRateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            var events = task.State.Get<double>("events");
            var seconds = task.ElapsedTime?.TotalSeconds ?? 0;
            var rate = seconds > 0.2 ? events / seconds : 0;
            return new Markup($"{Format.Count((long)events)} events [grey]{Format.Count((long)rate)}/s[/]");
        }
    }
}
