using ImpactGrains.Client;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="ImpactClient"/> as a typed client of <c>IHttpClientFactory</c>.</summary>
public static class ImpactClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ImpactClient"/> (transient, over a pooled handler of <c>IHttpClientFactory</c>) with the
    /// retry and timeout pipeline of Microsoft.Extensions.Http.Resilience:
    /// <code>services.AddImpactClient(o => { o.BaseAddress = new Uri("http://127.0.0.1:5080"); o.ApiKey = key; });</code>
    /// The builder returned adds handlers or configures the primary handler.
    /// </summary>
    public static IHttpClientBuilder AddImpactClient(this IServiceCollection services, Action<ImpactClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ImpactClientOptions>()
            .Configure(configure)
            .Validate(o => o.BaseAddress is { IsAbsoluteUri: true }, "ImpactClientOptions.BaseAddress must be an absolute URI");
        var builder = services.AddHttpClient<ImpactClient, ImpactClient>((http, provider) => new ImpactClient(http, provider.GetRequiredService<IOptions<ImpactClientOptions>>().Value))
            // Attempts are bounded by the pipeline's timeout; a whole call may wait out several Retry-After answers,
            // and a stream lasts as long as it is read.
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan);
        builder.AddResilienceHandler("impactgrains-client", (pipeline, context) =>
            ImpactResilience.Configure(pipeline, context.ServiceProvider.GetRequiredService<IOptions<ImpactClientOptions>>().Value));
        return builder;
    }
}
