using System.Collections.Concurrent;
using System.Net;
using System.Text;
using ImpactGrains.Client;

namespace ImpactGrains.Client.Tests;

/// <summary>One real server with the demo loaded, shared by the tests that talk to it; each test uses its own ids.</summary>
public sealed class DemoServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public Uri Url => new($"http://127.0.0.1:{Server.HttpPort}");

    public async Task InitializeAsync() =>
        Server = await ServerProcess.StartAsync(demo: true, extraArgs: ["--Impact:Alerts:AllowedWebhookHosts:0=127.0.0.1/32"]);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Server.DeleteData();
    }

    public ImpactClient Client(Action<ImpactClientOptions>? configure = null)
    {
        var options = new ImpactClientOptions { BaseAddress = Url };
        configure?.Invoke(options);
        return ImpactClient.Create(options);
    }
}

[CollectionDefinition(Name)]
public sealed class DemoServerCollection : ICollectionFixture<DemoServerFixture>
{
    public const string Name = "demo-server";
}

/// <summary>A request as the fake server saw it.</summary>
public sealed record SeenRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>A scriptable HTTP server on loopback, for what the real server does not do on demand (429, 503, dropped streams).</summary>
public sealed class FakeServer : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly Func<SeenRequest, HttpListenerResponse, Task> handler;
    private readonly Task loop;

    public FakeServer(Func<SeenRequest, HttpListenerResponse, Task> handler)
    {
        this.handler = handler;
        var port = LoopbackPorts.Next();
        Url = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(Url.ToString());
        listener.Start();
        loop = Task.Run(AcceptAsync);
    }

    public Uri Url { get; }

    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    private async Task AcceptAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                var request = context.Request;
                using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                var headers = request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
                var seen = new SeenRequest(request.HttpMethod, request.Url?.PathAndQuery ?? "", headers, body);
                Requests.Enqueue(seen);
                try
                {
                    await handler(seen, context.Response);
                    context.Response.Close();
                }
                catch (Exception)
                {
                    try
                    {
                        context.Response.Abort();
                    }
                    catch (Exception)
                    {
                        // gone already
                    }
                }
            });
        }
    }

    public static async Task WriteAsync(HttpListenerResponse response, int status, string contentType, string body, params (string Name, string Value)[] headers)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        foreach (var (name, value) in headers)
        {
            response.Headers[name] = value;
        }

        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }

    public static Task ProblemAsync(HttpListenerResponse response, int status, string title, string detail, params (string Name, string Value)[] headers) =>
        WriteAsync(response, status, "application/problem+json", System.Text.Json.JsonSerializer.Serialize(new { type = "about:blank", title, status, detail }), headers);

    public const string EmptyBoard = """{"at":"2026-01-01T00:00:00Z","kind":null,"category":null,"region":null,"entries":[]}""";

    public async ValueTask DisposeAsync()
    {
        // Close alone: after Stop, Close unregisters the prefix again, and the managed HttpListener binds the port anew to
        // do it, failing with "Address already in use" when another test's process has taken the port meanwhile.
        listener.Close();
        await loop;
    }
}
