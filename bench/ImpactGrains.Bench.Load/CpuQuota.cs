using System.Globalization;

namespace ImpactGrains.Bench;

/// <summary>
/// Holds one process to a fixed share of a core with the cgroup v1 cpu controller (CFS quota), so that N silos on one
/// machine have N times the capacity of one while the database and the load generator keep the rest. Needs a writable
/// /sys/fs/cgroup/cpu (root); <see cref="Available"/> says whether this machine has one.
/// </summary>
public sealed class CpuQuota : IDisposable
{
    private const string Root = "/sys/fs/cgroup/cpu";
    private const int PeriodMicroseconds = 100_000;

    private readonly string directory;

    private CpuQuota(string directory) => this.directory = directory;

    public static string? Unavailable()
    {
        if (!Directory.Exists(Root) || !File.Exists(Path.Combine(Root, "cgroup.procs")))
        {
            return $"{Root} is not a cgroup v1 cpu controller";
        }

        try
        {
            var probe = Path.Combine(Root, $"impactgrains-bench-probe-{Environment.ProcessId}");
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return $"{Root} is not writable here ({ex.Message.Split('\n')[0]}); run as root for quotas";
        }
    }

    /// <summary>Moves <paramref name="pid"/> (all its threads) into a new group limited to <paramref name="cores"/> of a core.</summary>
    public static CpuQuota Limit(int pid, double cores)
    {
        var directory = Path.Combine(Root, $"impactgrains-bench-{pid}");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "cpu.cfs_period_us"), PeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(directory, "cpu.cfs_quota_us"), ((int)Math.Round(cores * PeriodMicroseconds)).ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(directory, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
        return new CpuQuota(directory);
    }

    /// <summary>
    /// A counter of the group's cpu.stat: nr_periods (quota periods in which it ran), nr_throttled (those in which it
    /// used up its quota and waited).
    /// </summary>
    public long Stat(string name) =>
        File.ReadLines(Path.Combine(directory, "cpu.stat"))
            .Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(l => long.Parse(l[(name.Length + 1)..], CultureInfo.InvariantCulture))
            .FirstOrDefault();

    public void Dispose()
    {
        try
        {
            // Whatever is still inside (a process not yet reaped) goes back to the root group first.
            foreach (var pid in File.ReadAllLines(Path.Combine(directory, "cgroup.procs")))
            {
                File.WriteAllText(Path.Combine(Root, "cgroup.procs"), pid);
            }

            Directory.Delete(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover empty group costs nothing.
        }
    }
}
