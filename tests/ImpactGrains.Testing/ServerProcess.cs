using System.Diagnostics;
using System.Net;
using System.Text;

namespace ImpactGrains.Testing;

/// <summary>
/// The real server as a separate process on loopback, with its own free ports and data directory, so that tests see
/// exactly what a user sees, including what survives a kill -9.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly StringBuilder output = new();
    private Process? process;

    private ServerProcess(string dataDirectory, IReadOnlyList<string> extraArgs)
    {
        DataDirectory = dataDirectory;
        ExtraArgs = extraArgs;
        HttpPort = PostgresServer.FreePort();
        SiloPort = PostgresServer.FreePort();
        GatewayPort = PostgresServer.FreePort();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        // Ignored by a server running open; the admin key wherever the test keys are configured.
        Http.DefaultRequestHeaders.Add("X-Api-Key", TestApiKeys.Admin);
    }

    public string DataDirectory { get; }

    public IReadOnlyList<string> ExtraArgs { get; }

    public int HttpPort { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    /// <summary>A client that sends the admin test key (<see cref="TestApiKeys"/>).</summary>
    public HttpClient Http { get; }

    /// <summary>A client for this server that sends <paramref name="apiKey"/>, or no key when it is null.</summary>
    public HttpClient ClientWithKey(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = Http.Timeout };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    /// <summary>
    /// A client for this server whose connections come from <paramref name="localAddress"/> (any of 127.0.0.0/8 is this
    /// machine), so that one test can be several clients, or a proxy and a client; it sends <paramref name="apiKey"/>,
    /// or no key when it is null.
    /// </summary>
    public HttpClient ClientFrom(IPAddress localAddress, string? apiKey = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(localAddress.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(localAddress, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = Http.BaseAddress, Timeout = Http.Timeout };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

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

    /// <summary>Environment variables the server process gets besides this one's (for example DOTNET_PROCESSOR_COUNT).</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>A server on a fresh data directory with extra environment variables; started.</summary>
    public static async Task<ServerProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] extraArgs)
    {
        var server = new ServerProcess(Path.Combine(Path.GetTempPath(), "impactgrains-tests", Guid.NewGuid().ToString("N")), ["--Impact:Demo=false", .. extraArgs]);
        foreach (var (name, value) in environment)
        {
            server.Environment[name] = value;
        }

        await server.StartAsync();
        return server;
    }

    public static async Task<ServerProcess> StartAsync(bool demo = false, string? dataDirectory = null, params string[] extraArgs)
    {
        var directory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "impactgrains-tests", Guid.NewGuid().ToString("N"));
        var server = new ServerProcess(directory, [$"--Impact:Demo={demo.ToString().ToLowerInvariant()}", .. extraArgs]);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ServerAssembly)!,
        };
        foreach (var arg in new[]
                 {
                     ServerAssembly, $"--urls=http://127.0.0.1:{HttpPort}", $"--Impact:DataDirectory={DataDirectory}",
                     $"--Orleans:SiloPort={SiloPort}", $"--Orleans:GatewayPort={GatewayPort}",
                 }.Concat(ExtraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in Environment)
        {
            info.Environment[name] = value;
        }

        process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                // Without a timeout this also waits until the redirected output has been read to its end.
                process.WaitForExit();
                throw new InvalidOperationException($"the server exited with {process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await Http.GetAsync("/api/entities");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the server did not start within 60 s:\n{Output}");
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

    /// <summary>SIGTERM, as Kubernetes sends it; waits for the process to exit and returns its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (process is not { HasExited: false })
        {
            return process?.ExitCode ?? 0;
        }

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync(new CancellationTokenSource(timeout).Token);
        return process.ExitCode;
    }

    public bool HasExited => process?.HasExited ?? true;

    /// <summary>The server's process id, for diagnostics (the soak induces full collections through it).</summary>
    public int ProcessId => process?.Id ?? throw new InvalidOperationException("the server is not started");

    /// <summary>kill -9: no shutdown hooks, no flushing.</summary>
    public void Kill()
    {
        process?.Kill(entireProcessTree: true);
        process?.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            Kill();
        }

        Http.Dispose();
        await Task.Yield();
    }

    public void DeleteData()
    {
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    /// <summary>
    /// Runs the server assembly as a one-off command (such as <c>verify</c> or <c>migrate</c>) and returns its exit
    /// code with its standard output and error; kills it if it runs past <paramref name="timeout"/>.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunCommandAsync(TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ServerAssembly)!,
        };
        info.ArgumentList.Add(ServerAssembly);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{string.Join(' ', args)} did not finish within {timeout}:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The server built next to these tests, in the same configuration.</summary>
    public static string ServerAssembly
    {
        get
        {
            var testDirectory = AppContext.BaseDirectory;
            var root = new DirectoryInfo(testDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "ImpactGrains.sln")))
            {
                root = root.Parent;
            }

            var configuration = testDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var path = Path.Combine(root!.FullName, "src", "ImpactGrains.Server", "bin", configuration, "net10.0", "ImpactGrains.Server.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("build the server first", path);
        }
    }
}
