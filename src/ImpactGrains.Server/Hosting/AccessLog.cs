using System.Diagnostics;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// The access log, off unless <c>Impact:Logging:AccessLog=true</c>: one line per request when it ends (a stream when it
/// closes) with the method, path, status, duration, the client's address and scheme as the server sees them (behind a
/// trusted proxy, the forwarded ones) and the name of the API key, never the key. Off, it adds nothing to a request.
/// </summary>
public static partial class AccessLog
{
    public const string Setting = "Impact:Logging:AccessLog";
    public const string Category = "ImpactGrains.Server.Access";

    /// <summary>Right after the forwarded headers are applied, before the limits, so that refused requests are logged too.</summary>
    public static WebApplication UseImpactAccessLog(this WebApplication app)
    {
        if (!app.Configuration.GetValue(Setting, false))
        {
            return app;
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
        app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                var path = context.Request.Path.Value ?? "";
                LogRequest(logger, context.Request.Method, path.Length <= 200 ? path : path[..200] + "…", context.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds, context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    context.Request.Scheme, context.User.Identity?.Name ?? "-");
            }
        });
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Path} {StatusCode} in {DurationMs:0.0} ms from {Client} over {Scheme}, key {Key}")]
    private static partial void LogRequest(ILogger logger, string method, string path, int statusCode, double durationMs, string client, string scheme, string key);
}
