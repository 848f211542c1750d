using ImpactGrains.Alerting;
using ImpactGrains.Grains;
using ImpactGrains.Server.Live;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// OpenTelemetry metrics and traces: Orleans' meters, ASP.NET Core and the runtime, plus ImpactGrains' own
/// (<see cref="ImpactMetrics"/>). A Prometheus scrape endpoint at /metrics; OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT
/// is set. Structured JSON logs with Impact:Logging:Json=true.
/// </summary>
public static class TelemetrySetup
{
    /// <summary>ASP.NET Core's per-request instruments that no dashboard, alert or doc of ours reads.</summary>
    internal static readonly string[] DroppedPerRequestInstruments =
    [
        "aspnetcore.authentication.authenticate.duration",
        "aspnetcore.authorization.attempts",
        "aspnetcore.routing.match_attempts",
        "aspnetcore.rate_limiting.request_lease.duration",
        "aspnetcore.rate_limiting.active_request_leases",
    ];

    public static WebApplicationBuilder AddImpactTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ImpactMetrics>();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("impactgrains"))
            .WithMetrics(metrics =>
            {
                metrics
                    .AddMeter(ImpactMetrics.MeterName, WebhookMetrics.MeterName, "Microsoft.Orleans")
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                // Measured on every request, read by nothing we ship (the request duration per route and status, and
                // the rate limiter's admitted and refused counts, stay): together about 4% of a read's CPU in a
                // profile of /impact (docs/performance.md#reads). A dropped instrument is not listened to at all.
                foreach (var perRequest in DroppedPerRequestInstruments)
                {
                    metrics.AddView(perRequest, MetricStreamConfiguration.Drop);
                }
            });
        // After OpenTelemetry's own hosted service has built the meter provider: measurements made before it are lost.
        builder.Services.AddHostedService<CounterInitialization>();
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // Traces only where they go somewhere: a sampled, recorded activity for every request and every grain call
            // (with its context carried in each Orleans message) cost about a tenth of a read's time with no exporter
            // to take them (docs/performance.md#reads). Logs keep the request's trace id either way.
            telemetry.WithTracing(tracing => tracing
                .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics")));
            telemetry.UseOtlpExporter();
        }

        if (builder.Configuration.GetValue("Impact:Logging:Json", false))
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o => o.IncludeScopes = true);
        }

        return builder;
    }

    public static WebApplication MapImpactTelemetry(this WebApplication app)
    {
        var hub = app.Services.GetRequiredService<LiveFeedHub>();
        app.Services.GetRequiredService<ImpactMetrics>()
            .ObserveGauge("impactgrains.stream.subscribers", "{client}", "Clients connected to this silo's live stream", () => hub.ClientCount);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}

/// <summary>Reports the operational counters' known label values at 0 once the meter provider listens (<see cref="OperationsMetrics.Initialize"/>).</summary>
internal sealed class CounterInitialization : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        OperationsMetrics.Initialize();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
