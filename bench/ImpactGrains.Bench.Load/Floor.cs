using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Text.Json.Serialization;
using ImpactGrains.Testing;

namespace ImpactGrains.Bench;

/// <summary>
/// The HTTP floor (#15): a bare ASP.NET Core minimal API answering a small JSON object, what Kestrel itself costs on
/// this machine. It runs as a separate process (this executable with <c>floor-server</c>), with server GC as the real
/// server has, so that it competes with the load generator for the cores exactly as the server does.
/// </summary>
public sealed class FloorServer : IAsyncDisposable
{
    private readonly Process process;

    private FloorServer(Process process, int port)
    {
        this.process = process;
        Http = BenchServer.CreateClient(new Uri($"http://127.0.0.1:{port}"));
    }

    public const string Path = "/floor";

    public HttpClient Http { get; }

    public int ProcessId => process.Id;

    /// <summary>Runs the floor server in this process until it is killed: <c>floor-server --urls=…</c>.</summary>
    public static async Task RunAsync(string[] args)
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, FloorJson.Default));
        var app = builder.Build();
        app.MapGet(Path, () => new FloorAnswer("floor", 42.5, DateTimeOffset.UtcNow));
        await app.RunAsync();
    }

    public static async Task<FloorServer> StartAsync()
    {
        var port = PostgresServer.FreePort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(typeof(FloorServer).Assembly.Location);
        info.ArgumentList.Add("floor-server");
        info.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        info.Environment["DOTNET_gcServer"] = "1"; // as the real server (Microsoft.NET.Sdk.Web)
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var floor = new FloorServer(process, port);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await Workloads.GetOkAsync(floor.Http, Path);
                return floor;
            }
            catch (HttpRequestException) when (watch.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}

public sealed record FloorAnswer(string Name, double Score, DateTimeOffset At);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FloorAnswer))]
internal sealed partial class FloorJson : JsonSerializerContext;
