using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using ImpactGrains.Alerting;
using ImpactGrains.Server.Hosting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace ImpactGrains.Server.Security;

/// <summary>
/// Hardening of the HTTP surface: security headers on every response, request rate limits per client with ASP.NET
/// Core's rate limiter (429 problem+json with Retry-After), stream connections per client, and the start-up checks of
/// the limit and webhook allow-list settings. See docs/security.md.
/// </summary>
public static partial class SecuritySetup
{
    /// <summary>The retry hint of a refused stream: streams are long-lived, so a slot frees up only when one closes.</summary>
    public const int StreamRetryAfterSeconds = 5;

    public static WebApplicationBuilder AddImpactSecurity(this WebApplicationBuilder builder)
    {
        builder.AddValidatedOptions<LimitOptions>(LimitOptions.Section, o => o.Validate());
        var limits = builder.Configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();
        // Alerting validates its own section on start; checked here too, so that a bad allow-list is refused as early.
        StartupValidation.RefuseInvalid(builder.Configuration.GetSection(AlertOptions.Section), new AlertOptionsValidation());
        builder.Services.AddSingleton<StreamConnectionLimiter>();
        builder.Services.AddSingleton<IProblemDetailsWriter, ProblemJsonFallbackWriter>();
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.GlobalLimiter = CreateGlobalLimiter(limits);
            o.OnRejected = (context, _) => RejectAsync(context.HttpContext, context.Lease);
        });

        // aspnetcore.rate_limiting.* on /metrics: requests let through and refused, per outcome.
        builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddMeter("Microsoft.AspNetCore.RateLimiting"));
        return builder;
    }

    /// <summary>Early in the pipeline: the headers first, so that every answer carries them, then the limits.</summary>
    public static WebApplication UseImpactSecurity(this WebApplication app)
    {
        app.UseImpactSecurityHeaders();
        var limits = app.Services.GetRequiredService<IOptions<LimitOptions>>().Value;
        if (!limits.Enabled)
        {
            return app;
        }

        app.UseRateLimiter();
        var streams = app.Services.GetRequiredService<StreamConnectionLimiter>();
        app.Use(async (context, next) =>
        {
            if (!IsStream(context))
            {
                await next(context);
                return;
            }

            var partitions = ClientIdentity.Partitions(context);
            if (!streams.TryAcquire(partitions, out var full))
            {
                LogRefused(context, "streams", full!);
                context.Response.Headers.RetryAfter = StreamRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await TooManyAsync(context, "Too many streams",
                    $"{ClientIdentity.Describe(full!)} has {streams.Limit} streams open on this instance already; close one first");
                return;
            }

            try
            {
                await next(context);
            }
            finally
            {
                streams.Release(partitions);
            }
        });
        return app;
    }

    /// <summary>Probes and scrapes are never limited: a flood must not make a healthy instance look dead.</summary>
    public static bool IsExempt(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);

    private static bool IsStream(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method) && context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: "/api/stream" };

    /// <summary>
    /// The address's limit, then the key's: a request must pass both, so inventing keys never buys a fresh allowance,
    /// and a key shared across addresses is limited as a whole.
    /// </summary>
    internal static PartitionedRateLimiter<HttpContext> CreateGlobalLimiter(LimitOptions limits) =>
        PartitionedRateLimiter.CreateChained(Limiter(limits, ClientIdentity.AddressPartition), Limiter(limits, ClientIdentity.KeyPartition));

    /// <summary>A token bucket per partition and per kind (writes, reads), refilled once a second.</summary>
    private static PartitionedRateLimiter<HttpContext> Limiter(LimitOptions limits, Func<HttpContext, string?> partitionOf) =>
        PartitionedRateLimiter.Create<HttpContext, (bool Write, string Partition)>(context =>
        {
            if (IsExempt(context.Request.Path) || partitionOf(context) is not { } partition)
            {
                return RateLimitPartition.GetNoLimiter((false, ""));
            }

            // A pair, not a concatenated string: no allocation per request and limiter.
            var write = ClientIdentity.IsWrite(context.Request.Method);
            return RateLimitPartition.GetTokenBucketLimiter((write, partition), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = write ? limits.WriteBurst : limits.ReadBurst,
                TokensPerPeriod = write ? limits.WritesPerSecond : limits.ReadsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });

    private static async ValueTask RejectAsync(HttpContext context, RateLimitLease lease)
    {
        var seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
        var write = ClientIdentity.IsWrite(context.Request.Method);
        var partition = ClientIdentity.AddressPartition(context);
        LogRefused(context, write ? "writes" : "reads", partition);
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var limits = context.RequestServices.GetRequiredService<IOptions<LimitOptions>>().Value;
        var wait = seconds == 1 ? "1 second" : $"{seconds} seconds";
        var detail = write
            ? $"too many writes: a client may make {limits.WritesPerSecond} per second (bursts of {limits.WriteBurst}); nothing from this request was stored, retry after {wait}"
            : $"too many reads: a client may make {limits.ReadsPerSecond} per second (bursts of {limits.ReadBurst}); retry after {wait}";
        await TooManyAsync(context, "Too many requests", detail);
    }

    private static Task TooManyAsync(HttpContext context, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status429TooManyRequests, title: title, type: "https://tools.ietf.org/html/rfc6585#section-4")
            .ExecuteAsync(context);

    // One warning per client and kind a minute, so that a flood cannot flood the log too.
    private static readonly ConcurrentDictionary<string, long> LastLogged = new(StringComparer.Ordinal);

    private static void LogRefused(HttpContext context, string kind, string partition)
    {
        var key = kind + "|" + partition;
        var now = Environment.TickCount64;
        if (LastLogged.TryGetValue(key, out var last) && now - last < 60_000)
        {
            return;
        }

        if (LastLogged.Count > 10_000)
        {
            LastLogged.Clear();
        }

        LastLogged[key] = now;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ImpactGrains.Server.Limits");
        var path = context.Request.Path.Value ?? "";
        LogLimitReached(logger, kind, ClientIdentity.ForLog(partition), context.Request.Method, path.Length <= 200 ? path : path[..200] + "…");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Limit reached: refusing {Kind} from {Client} with 429 (first refusal this minute: {Method} {Path})")]
    private static partial void LogLimitReached(ILogger logger, string kind, string client, string method, string path);
}
