using System.Diagnostics;

namespace ImpactGrains.Bench;

/// <summary>Latency samples in milliseconds, gathered per worker and merged; nearest-rank percentiles.</summary>
public sealed class Latencies
{
    private readonly List<double> samples = [];

    public int Count
    {
        get
        {
            lock (samples)
            {
                return samples.Count;
            }
        }
    }

    public void Add(double milliseconds)
    {
        lock (samples)
        {
            samples.Add(milliseconds);
        }
    }

    public void AddSince(long startTimestamp) => Add(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds);

    public void AddRange(IEnumerable<double> values)
    {
        lock (samples)
        {
            samples.AddRange(values);
        }
    }

    public double Percentile(double q)
    {
        lock (samples)
        {
            if (samples.Count == 0)
            {
                return double.NaN;
            }

            var sorted = samples.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
        }
    }

    public string Summary() => Count == 0 ? "no samples" : $"p50 {Percentile(0.5):0.0} ms, p99 {Percentile(0.99):0.0} ms, p99.9 {Percentile(0.999):0.0} ms, n={Count}";
}

/// <summary>What one measured phase produced: operations per second and the latency of each operation.</summary>
public sealed record Throughput(double PerSecond, Latencies Latency, long Operations, double Seconds)
{
    public string Summary(string unit) => $"{PerSecond:N0} {unit}/s ({Operations:N0} in {Seconds:0.0} s); {Latency.Summary()}";
}
