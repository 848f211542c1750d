using System.Diagnostics;
using System.Net;
using ImpactGrains.Testing;

namespace ImpactGrains.Bench;

/// <summary>
/// Recovery: kill -9 the server, start it again on the same data and ports, and time from the process start until the
/// first query is answered. Started directly rather than through <see cref="ServerProcess.StartAsync()"/>, whose
/// readiness check (GET /api/entities) asks every entity's grain and so would activate them all first.
/// </summary>
public static class Recovery
{
    public static async Task<double> RestartAsync(ServerProcess server, string firstQuery)
    {
        server.Kill();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ServerProcess.ServerAssembly)!,
        };
        foreach (var arg in new[]
                 {
                     ServerProcess.ServerAssembly, $"--urls=http://127.0.0.1:{server.HttpPort}", $"--Impact:DataDirectory={server.DataDirectory}",
                     $"--Orleans:SiloPort={server.SiloPort}", $"--Orleans:GatewayPort={server.GatewayPort}",
                 }.Concat(server.ExtraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        using var http = BenchServer.CreateClient(new Uri($"http://127.0.0.1:{server.HttpPort}"));
        var started = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            while (started.Elapsed < TimeSpan.FromMinutes(5))
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"the restarted server exited with {process.ExitCode}");
                }

                try
                {
                    using var response = await http.GetAsync(firstQuery);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return started.Elapsed.TotalSeconds;
                    }
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }

                await Task.Delay(20);
            }

            throw new TimeoutException("the restarted server answered no query within 5 minutes");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
