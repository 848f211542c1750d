using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ImpactGrains.Cli.Tests;

/// <summary>A request as the fake server saw it.</summary>
public sealed record SeenRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A scriptable HTTP server on 127.0.0.1 (HttpListener), for what the real server does not do on demand: 429 and 503
/// answers, 413 for large batches, connection failures, a dropped event stream.
/// </summary>
public sealed class FakeServer : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly Func<SeenRequest, HttpListenerResponse, Task> handler;
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;

    public FakeServer(Func<SeenRequest, HttpListenerResponse, Task> handler, int? port = null)
    {
        this.handler = handler;
        Port = port ?? FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    public static int FreePort() => ImpactGrains.Testing.LoopbackPorts.Next();

    public FakeServer Start()
    {
        listener.Start();
        loop = Task.Run(AcceptAsync);
        return this;
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                var request = context.Request;
                string body;
                using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
                {
                    body = await reader.ReadToEndAsync();
                }

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
        WriteAsync(response, status, "application/problem+json",
            System.Text.Json.JsonSerializer.Serialize(new { type = "about:blank", title, status, detail }), headers);

    /// <summary>The answer of POST /api/events that accepts every line of the body.</summary>
    public static Task AcceptAllAsync(SeenRequest request, HttpListenerResponse response)
    {
        var lines = request.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        return WriteAsync(response, 200, "application/json", $$"""{"accepted":{{lines}},"duplicates":0,"rejected":[]}""");
    }

    public async ValueTask DisposeAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        stopping.Cancel();
        // Close alone: after Stop, Close unregisters the prefix again, and the managed HttpListener binds the port anew to
        // do it, failing with "Address already in use" when another test's process has taken the port meanwhile.
        listener.Close();
        if (loop is not null)
        {
            await loop;
        }
    }
}
