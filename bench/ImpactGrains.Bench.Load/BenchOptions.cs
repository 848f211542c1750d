using System.Globalization;

namespace ImpactGrains.Bench;

/// <summary>Command-line options; --smoke picks small sizes so the whole suite takes seconds.</summary>
public sealed class BenchOptions
{
    private readonly string[] args;

    public BenchOptions(string[] args)
    {
        this.args = args;
        Smoke = args.Contains("--smoke");
        Seconds = Double("seconds", Smoke ? 1 : 10);
        // Every ingestion measure (ours and the naive peer's) follows this much unmeasured load of the same kind: a
        // server's first seconds are spent compiling its hot paths (tiered JIT: 13% of the CPU 8–18 s after start in
        // a profile), which is start-up, not the cost per event of a running server.
        WarmupSeconds = Double("warmup-seconds", Smoke ? 1 : 5);
        Entities = Int("entities", Smoke ? 500 : 2_000); // as issue #13 measured: 2,000 registered entities
        BatchSize = Int("batch", 1000);
        IngestWorkers = Int("ingest-workers", 8); // as many as the naive peer's connections
        ScaleOutWorkersPerSilo = Int("scale-out-workers", 4);
        MixedIngestWorkers = Int("mixed-ingest-workers", 2);
        QueryWorkers = Int("query-workers", 32);
        NaiveConnections = Int("naive-connections", 8);
        FreshnessRounds = Int("freshness-rounds", Smoke ? 2 : 100);
        MemoryEntities = Int("memory-entities", Smoke ? 500 : 20_000);
        RecoveryEvents = Long("recovery-events", 0);
        HistoryEvents = Long("history-events", Smoke ? 20_000 : 10_000_000);
        Silos = Text("silos", Smoke ? "1,2" : "1,2,4,8").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        SiloCores = Double("silo-cores", Smoke ? 0.5 : 0.1);
        FailoverSilos = Int("failover-silos", Smoke ? 2 : 4);
        // Past the 30 s snapshot timer (Impact:Snapshots:Interval) that every entity the set-up touched starts: the
        // write burst that follows is the same whatever N, and would land inside some runs' measurement and not others'.
        IdleSeconds = Int("idle-seconds", Smoke ? 1 : 35);
        // One whole snapshot interval, so that every N pays its periodic costs in the same proportion.
        ScaleOutSeconds = Double("scale-out-seconds", Smoke ? 1 : 30);
        ScaleOutReadSeconds = Double("scale-out-read-seconds", Smoke ? 1 : 5);
        // Fixed rates for the reads-under-ingestion phase instead of half and a quarter of the maxima just measured:
        // runs that compare two trees then load them alike.
        MixedImpactRate = Double("mixed-impact-rate", 0);
        MixedIngestRate = Double("mixed-ingest-rate", 0);
        Only = Text("only", "ceiling,embedded,reads,reads-postgres,memory,history,feed,postgres,scale-out").Split(',');
        MicroFile = Text("micro", "");
        OutFile = args.Any(a => a.StartsWith("--out=", StringComparison.Ordinal)) ? Text("out", "") : null;
    }

    public bool Smoke { get; }

    public double Seconds { get; }

    public double WarmupSeconds { get; }

    public int Entities { get; }

    public int BatchSize { get; }

    public int IngestWorkers { get; }

    /// <summary>Ingestion clients per silo in the scale-out runs (all silos and the database share this machine's cores).</summary>
    public int ScaleOutWorkersPerSilo { get; }

    /// <summary>Ingestion clients beside the readers in the mixed workload.</summary>
    public int MixedIngestWorkers { get; }

    public int QueryWorkers { get; }

    public int NaiveConnections { get; }

    public int FreshnessRounds { get; }

    public int MemoryEntities { get; }

    /// <summary>The embedded log is filled to at least this many events before the recovery measure.</summary>
    public long RecoveryEvents { get; }

    /// <summary>Events posted to the one entity of the long-history measure (issue #14).</summary>
    public long HistoryEvents { get; }

    /// <summary>The measured closed-loop reads of each scale-out run (after as long a warm-up).</summary>
    public double ScaleOutReadSeconds { get; }

    /// <summary>Silo counts of the scale-out runs.</summary>
    public int[] Silos { get; }

    /// <summary>The CPU quota of each silo in the scale-out runs, in cores (0: none).</summary>
    public double SiloCores { get; }

    /// <summary>How long the scale-out runs measure an idle cluster's own CPU before the load.</summary>
    public int IdleSeconds { get; }

    /// <summary>How long each scale-out run ingests (the failover run three times that).</summary>
    public double ScaleOutSeconds { get; }

    /// <summary>Reads per second of the open-loop phase under ingestion; 0: half the closed-loop maximum.</summary>
    public double MixedImpactRate { get; }

    /// <summary>Events per second beside them; 0: a quarter of ingestion's closed-loop maximum.</summary>
    public double MixedIngestRate { get; }

    /// <summary>Silos of the failover run (one of them is killed).</summary>
    public int FailoverSilos { get; }

    public string[] Only { get; }

    public string MicroFile { get; }

    public string? OutFile { get; }

    public bool Runs(string part) => Only.Contains(part);

    private string Text(string name, string fallback) =>
        args.FirstOrDefault(a => a.StartsWith($"--{name}=", StringComparison.Ordinal))?[(name.Length + 3)..] ?? fallback;

    private int Int(string name, int fallback) => int.Parse(Text(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    private long Long(string name, long fallback) => long.Parse(Text(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    private double Double(string name, double fallback) => double.Parse(Text(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
}
