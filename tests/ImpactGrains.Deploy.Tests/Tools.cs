using System.Diagnostics;

namespace ImpactGrains.Deploy.Tests;

/// <summary>The repository's folders, found from the test assembly upwards.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => System.IO.File.ReadAllText(File(parts));

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !System.IO.File.Exists(Path.Combine(directory.FullName, "ImpactGrains.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ImpactGrains.sln was not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Runs a command line tool to completion.</summary>
internal static class Tool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null, Func<string, bool>? dropVariable = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in info.Environment.Keys.Where(k => dropVariable?.Invoke(k) == true).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"cannot run {file}: {ex.Message}", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}:\n{await stdout}{await stderr}");
            }

            return new Result(process.ExitCode, await stdout, await stderr);
        }
    }

    /// <summary>Whether a program is on PATH.</summary>
    public static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(directory => System.IO.File.Exists(Path.Combine(directory, name)));
}
