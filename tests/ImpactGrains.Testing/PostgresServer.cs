using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ImpactGrains.Testing;

/// <summary>
/// A throwaway PostgreSQL server from the machine's own binaries: initdb and pg_ctl run as the unprivileged
/// <c>postgres</c> user (the server refuses root), on 127.0.0.1, a free port and a temporary directory, removed on dispose.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string root;
    private int databases;

    private PostgresServer(string root, int port)
    {
        this.root = root;
        Port = port;
    }

    public int Port { get; }

    private string DataDirectory => Path.Combine(root, "data");

    /// <summary>The server's main process (its backends are its children), from postmaster.pid.</summary>
    public int PostmasterPid => int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);

    public static async Task<PostgresServer> StartAsync()
    {
        var root = Directory.CreateTempSubdirectory("impactgrains-pg-").FullName;
        var server = new PostgresServer(root, FreePort());
        await RunAsync("chown", "postgres", root);
        await RunAsync("chmod", "700", root);
        await server.AsPostgresAsync(Tool("initdb"), "-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Starts (or restarts) the server process on the same port and data.</summary>
    public Task StartServerAsync() => AsPostgresAsync(Tool("pg_ctl"), "-D", DataDirectory, "-l", Path.Combine(root, "server.log"),
        "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {root} -c fsync=on -c max_connections=300", "-w", "start");

    /// <summary>Stops the server at once (in-flight transactions are rolled back), as a crash or restart would.</summary>
    public Task StopServerAsync() => AsPostgresAsync(Tool("pg_ctl"), "-D", DataDirectory, "-m", "immediate", "-w", "stop");

    /// <summary>A new, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"impact_{Interlocked.Increment(ref databases)}";
        await AsPostgresAsync(Tool("psql"), "-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", "-d", "postgres", "-c", $"CREATE DATABASE {name}");
        return $"Host=127.0.0.1;Port={Port};Database={name};Username=postgres;Timeout=5;Command Timeout=30";
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopServerAsync();
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private Task AsPostgresAsync(params string[] command) => RunAsync("runuser", ["-u", "postgres", "--", .. command]);

    private static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}{await stdout}");
        }
    }

    /// <summary>initdb and pg_ctl are on PATH on some machines and under /usr/lib/postgresql/N/bin on Debian's.</summary>
    private static string Tool(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
        if (path is not null)
        {
            return path;
        }

        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin", name)).FirstOrDefault(File.Exists)
            : null;
        return debian ?? throw new InvalidOperationException($"{name} was not found: install PostgreSQL (apt-get install -y postgresql)");
    }

    public static int FreePort() => LoopbackPorts.Next();
}
