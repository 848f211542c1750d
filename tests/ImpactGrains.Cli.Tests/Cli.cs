using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ImpactGrains.Cli;
using Spectre.Console;

namespace ImpactGrains.Cli.Tests;

/// <summary>What one run of the CLI printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>Runs <c>impact</c> in-process (its entry point, with captured output and a fixed environment) or as a process.</summary>
public static partial class Cli
{
    public static async Task<CliResult> RunAsync(string url, params string[] args) => await RunAsync(url, CancellationToken.None, null, args);

    public static async Task<CliResult> RunAsync(string? url, CancellationToken cancellationToken, IDictionary<string, string>? variables, params string[] args)
    {
        var output = new LockedWriter();
        var error = new LockedWriter();
        var exit = await StartAsync(url, output, error, cancellationToken, variables, args);
        return new CliResult(exit, output.Text, error.Text);
    }

    /// <summary>Starts a run whose output can be read while it goes on (for watch).</summary>
    public static Task<int> StartAsync(string? url, LockedWriter output, LockedWriter error, CancellationToken cancellationToken, IDictionary<string, string>? variables, params string[] args)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 200;
        var environment = new CliEnvironment
        {
            Out = console,
            Error = error,
            GetVariable = name => variables is not null && variables.TryGetValue(name, out var value) ? value : null,
        };
        string[] all = url is null ? args : [.. args, "--url", url];
        return Task.Run(() => ImpactCli.RunAsync(all, environment, cancellationToken), CancellationToken.None);
    }

    /// <summary>The CLI as its own process: <c>dotnet impact.dll ARGS</c>.</summary>
    public static Process StartProcess(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Assembly);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("IMPACT_URL");
        info.Environment.Remove("IMPACT_API_KEY");
        return Process.Start(info)!;
    }

    /// <summary>impact.dll as built next to these tests, in the same configuration.</summary>
    public static string Assembly
    {
        get
        {
            var local = Path.Combine(AppContext.BaseDirectory, "impact.dll");
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "ImpactGrains.sln")))
            {
                root = root.Parent;
            }

            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var built = root is null ? null : Path.Combine(root.FullName, "src", "ImpactGrains.Cli", "bin", configuration, "net10.0", "impact.dll");
            return built is not null && File.Exists(built) ? built : local;
        }
    }

    /// <summary>The numbers of the summary table's row for a file: events, accepted, duplicates, rejected.</summary>
    public static (long Events, long Accepted, long Duplicates, long Rejected) Summary(CliResult result, string file)
    {
        var name = Path.GetFileName(file);
        var row = result.Out.Split('\n').FirstOrDefault(l => l.Contains($" {name} ", StringComparison.Ordinal) || l.Contains($" {name} (", StringComparison.Ordinal));
        Assert.True(row is not null, $"no summary row for {name}:\n{result}");
        var cells = row!.Split(['│', '|'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        long Number(int i) => long.Parse(cells[i].Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
        return (Number(1), Number(2), Number(3), Number(4));
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>The output with runs of white space made one space, for matching table rows.</summary>
    public static string Squeeze(string text) => Spaces().Replace(text, " ");
}

/// <summary>A text writer that can be read while another thread writes to it.</summary>
public sealed class LockedWriter : TextWriter
{
    private readonly StringBuilder text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get
        {
            lock (text)
            {
                return text.ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (text)
        {
            text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (text)
        {
            text.Append(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (text)
        {
            text.Append(buffer, index, count);
        }
    }
}
