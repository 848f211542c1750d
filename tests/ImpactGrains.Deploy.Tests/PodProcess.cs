using System.Diagnostics;
using System.Text;

namespace ImpactGrains.Deploy.Tests;

/// <summary>
/// A container's process, started on this machine: the image's entrypoint plus the manifest's args, in the image's
/// working directory, with exactly the given environment (nothing inherited but what finds `dotnet`).
/// </summary>
public sealed class PodProcess : IAsyncDisposable
{
    private readonly StringBuilder output = new();
    private readonly Process process;

    private PodProcess(Process process) => this.process = process;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public static PodProcess Start(IReadOnlyList<string> command, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Clear();
        foreach (var (key, value) in HostEssentials())
        {
            info.Environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var pod = new PodProcess(Process.Start(info)!);
        pod.process.OutputDataReceived += (_, e) => pod.Append(e.Data);
        pod.process.ErrorDataReceived += (_, e) => pod.Append(e.Data);
        pod.process.BeginOutputReadLine();
        pod.process.BeginErrorReadLine();
        return pod;
    }

    /// <summary>What a container has without the manifests: PATH (here also where this machine's dotnet is found).</summary>
    private static Dictionary<string, string> HostEssentials()
    {
        var essentials = new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin" };
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } root)
        {
            essentials["DOTNET_ROOT"] = root;
        }

        return essentials;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the process did not exit within {timeout}:\n{Output}");
        }

        process.WaitForExit(); // drains the output
        return process.ExitCode;
    }

    /// <summary>SIGTERM, as the kubelet sends it when a pod is deleted.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
