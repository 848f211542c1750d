using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace ImpactGrains.Testing;

/// <summary>
/// A throwaway NATS server with JetStream (Debian's <c>nats-server -js</c>) on 127.0.0.1, a free port and a temporary
/// store directory, removed on dispose. It can be killed (SIGKILL) or stopped and started again on the same port and
/// store, as a crash or a restart of the broker would.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private readonly string root;
    private readonly StringBuilder output = new();
    private Process? process;

    private readonly IReadOnlyList<string> extraArgs;

    private NatsServer(string root, int port, IReadOnlyList<string> extraArgs)
    {
        this.root = root;
        Port = port;
        this.extraArgs = extraArgs;
    }

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    public string StoreDirectory => Path.Combine(root, "store");

    public bool IsRunning => process is { HasExited: false };

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

    /// <param name="extraArgs">More nats-server options, such as <c>--user</c> and <c>--pass</c>.</param>
    public static async Task<NatsServer> StartAsync(params string[] extraArgs)
    {
        var root = Directory.CreateTempSubdirectory("impactgrains-nats-").FullName;
        var server = new NatsServer(root, LoopbackPorts.Next(), extraArgs);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Starts (or restarts) the server process on the same port and store.</summary>
    public async Task StartServerAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("the NATS server is already running");
        }

        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-js", "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-sd", StoreDirectory }.Concat(extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Ready once it logs so; the port alone answers before JetStream has recovered its store.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                process.WaitForExit();
                throw new InvalidOperationException($"nats-server exited with {process.ExitCode}:\n{Output}");
            }

            if (Output.Contains("Server is ready", StringComparison.Ordinal) && await AcceptsAsync())
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"nats-server did not become ready on port {Port}:\n{Output}");
    }

    /// <summary>kill -9: no flush, no goodbye to clients.</summary>
    public void Kill()
    {
        if (process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
    }

    /// <summary>A clean stop (SIGTERM, as a service manager sends), waited for.</summary>
    public async Task StopAsync()
    {
        if (process is not { HasExited: false } p)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        process?.Dispose();
        await Task.Yield();
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private async Task<bool> AcceptsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
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

    /// <summary>Debian installs it in /usr/sbin, which is not on every user's PATH.</summary>
    private static string Executable
    {
        get
        {
            var onPath = Environment.GetEnvironmentVariable("PATH")?.Split(':').Select(d => Path.Combine(d, "nats-server")).FirstOrDefault(File.Exists);
            if (onPath is not null)
            {
                return onPath;
            }

            return File.Exists("/usr/sbin/nats-server")
                ? "/usr/sbin/nats-server"
                : throw new InvalidOperationException("nats-server was not found: install it (apt-get install -y nats-server)");
        }
    }
}
