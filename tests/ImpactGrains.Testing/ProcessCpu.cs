using System.Diagnostics;
using System.Globalization;

namespace ImpactGrains.Testing;

/// <summary>
/// CPU time that processes have used, from /proc (user + system, fields 14 and 15 of /proc/PID/stat): the benchmarks'
/// "µs of CPU per event", which survives a noisy machine better than a rate.
/// </summary>
public static class ProcessCpu
{
    private static readonly Lazy<double> TicksPerSecond = new(ReadClockTicks);

    /// <summary>Seconds of CPU the process has used so far; 0 when it is gone.</summary>
    public static double Seconds(int pid)
    {
        var fields = StatFields(pid);
        return fields is null ? 0 : (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond.Value;
    }

    /// <summary>Seconds of CPU used by the process and its live children (a PostgreSQL server and its backends).</summary>
    public static double TreeSeconds(int pid)
    {
        var total = Seconds(pid);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var child) && StatFields(child) is { } fields &&
                int.Parse(fields[1], CultureInfo.InvariantCulture) == pid)
            {
                total += Seconds(child);
            }
        }

        return total;
    }

    /// <summary>
    /// Seconds of CPU used so far by each of the process's threads whose name starts with <paramref name="threadName"/>,
    /// by thread id (Linux truncates names to 15 characters: the runtime's JIT worker is ".NET Tiered Com"). By thread,
    /// because such a thread may end and another start between two readings: a sum would then go backwards.
    /// </summary>
    public static IReadOnlyDictionary<int, double> ThreadSeconds(int pid, string threadName)
    {
        var times = new Dictionary<int, double>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    var open = stat.IndexOf('(');
                    var close = stat.LastIndexOf(')');
                    if (stat[(open + 1)..close].StartsWith(threadName, StringComparison.Ordinal))
                    {
                        var fields = stat[(close + 2)..].Split(' ');
                        times[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] =
                            (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond.Value;
                    }
                }
                catch (IOException)
                {
                    // the thread ended while we read
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            // the process is gone
        }

        return times;
    }

    /// <summary>The fields after the command name (which may hold spaces): [0] is the state, [1] the parent's pid.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double ReadClockTicks()
    {
        var info = new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return double.TryParse(text.Trim(), CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
    }
}
