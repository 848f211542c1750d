using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ImpactGrains.Bench;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Timeline;
using ImpactGrains.Scoring.Validation;

// Micro-benchmarks of the pure domain. In-process (no per-benchmark project build) and a short job, so the whole set
// takes well under a minute; --smoke runs each benchmark once, only to check that they work.
// Usage: dotnet bench/ImpactGrains.Bench.Micro/bin/Release/net10.0/ImpactGrains.Bench.Micro.dll [--smoke] [--out=FILE]
var smoke = args.Contains("--smoke");
var outFile = args.FirstOrDefault(a => a.StartsWith("--out=", StringComparison.Ordinal))?[6..];
var job = (smoke ? Job.Dry : Job.Default.WithWarmupCount(2).WithIterationCount(5).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(200)))
    .WithToolchain(InProcessEmitToolchain.Instance);
var config = ManualConfig.CreateMinimumViable()
    .AddJob(job)
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.DisableLogFile);
var summary = BenchmarkRunner.Run<DomainBenchmarks>(config);

// One line per benchmark for the suite's table: name, mean ns per operation, bytes allocated per operation.
var lines = summary.Reports.Select(r => string.Create(CultureInfo.InvariantCulture,
    $"{r.BenchmarkCase.Descriptor.WorkloadMethod.Name}\t{r.ResultStatistics?.Mean ?? double.NaN}\t{r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) ?? 0}")).ToList();
if (outFile is not null)
{
    File.WriteAllLines(outFile, lines);
}

return summary.Reports.Length == 8 && summary.Reports.All(r => r.Success) ? 0 : 1;

/// <summary>Each benchmark handles one batch of <see cref="BatchSize"/> events, the suite's request size.</summary>
[MemoryDiagnoser]
public class DomainBenchmarks
{
    public const int BatchSize = 1000;

    private readonly ImpactCalculator calculator = new(ScoringModel.Default);
    private readonly DecayTable table = new(ScoringModel.Default);
    private byte[] body = [];
    private List<ImpactGrains.Scoring.Events.ImpactEvent> parsed = [];
    private List<ScoredEvent> scored = [];
    private EventLedger fullLedger = null!;
    private EntityTimeline timeline = null!;
    private DateTimeOffset latestAllowed;

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UtcNow;
        latestAllowed = now.AddMinutes(5);
        body = new BenchEvents("micro", 1, skewed: false, seed: 1).Batch(BatchSize, now);
        parsed = ValidateAndParse().Select(r => r.Event!).ToList();
        scored = parsed.Select((e, i) => calculator.Score(e, i + 1)).OrderBy(e => e.OccurredAtTicks).ToList();
        fullLedger = new EventLedger(table);
        foreach (var e in scored)
        {
            fullLedger.TryAdd(e);
        }

        timeline = new EntityTimeline("micro", table, new TimelineOptions());
        foreach (var e in scored)
        {
            timeline.Add(Contribution.OwnEvent(e, "micro"));
        }
    }

    /// <summary>What POST /api/events does with a JSON array: EventBatchReader straight from the UTF-8 bytes.</summary>
    [Benchmark]
    public IReadOnlyList<EventParseResult> ReadBatch() => EventBatchReader.ReadJson(body, BatchSize, latestAllowed).Events!;

    /// <summary>The exact path every event could take: parse a document, then EventJson.Parse each element (the reader's reference).</summary>
    [Benchmark]
    public List<EventParseResult> ValidateAndParse()
    {
        using var document = JsonDocument.Parse(body);
        var results = new List<EventParseResult>(BatchSize);
        foreach (var element in document.RootElement.EnumerateArray())
        {
            results.Add(EventJson.Parse(element, latestAllowed));
        }

        return results;
    }

    /// <summary>ImpactCalculator on every event of the batch, as IngestionService does after the commit.</summary>
    [Benchmark]
    public double Score()
    {
        var total = 0.0;
        for (var i = 0; i < parsed.Count; i++)
        {
            total += calculator.Score(parsed[i], i + 1).Impact;
        }

        return total;
    }

    /// <summary>Applying the batch to one entity's state: the ledger (sorted events, id set, decayed sums per region).</summary>
    [Benchmark]
    public int ApplyToLedger()
    {
        var ledger = new EventLedger(table);
        foreach (var e in scored)
        {
            ledger.TryAdd(e);
        }

        return ledger.Count;
    }

    /// <summary>The forward-decayed sums alone: the O(1) core of applying an event.</summary>
    [Benchmark]
    public double ApplyToForwardDecaySums()
    {
        var sums = new ForwardDecaySums(table);
        foreach (var e in scored)
        {
            sums.Add(e.Type, e.OccurredAtTicks, e.Impact);
        }

        return sums.ValueAt(scored[^1].Type, scored[^1].OccurredAtTicks);
    }

    /// <summary>One impact query over an entity holding the batch: what GET /impact computes in the grain.</summary>
    [Benchmark]
    public double EvaluateImpact() => new ImpactView("micro", fullLedger, []).Evaluate(DateTimeOffset.UtcNow).Score;

    /// <summary>GET /impact now, in the entity grain: the timeline's head decayed to now (the batch is its whole history).</summary>
    [Benchmark]
    public double ImpactNow() => timeline.EvaluateAsync(DateTimeOffset.UtcNow, NoHistory.Instance).AsTask().Result.Score;

    /// <summary>GET /explain?limit=10 now, in the entity grain: the ten largest contributions among the batch.</summary>
    [Benchmark]
    public int ExplainNow() => timeline.ExplainAsync(DateTimeOffset.UtcNow, 10, NoHistory.Instance).AsTask().Result.Count;

    /// <summary>Queries at or after the timeline's latest contribution never read the history.</summary>
    private sealed class NoHistory : IContributionHistory
    {
        public static readonly NoHistory Instance = new();

        public IAsyncEnumerable<Contribution> ReadAsync(long afterTicks, long throughTicks, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("a query now must not read the history");
    }
}
