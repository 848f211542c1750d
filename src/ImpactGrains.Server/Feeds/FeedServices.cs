using ImpactGrains.Server.Hosting;

namespace ImpactGrains.Server.Feeds;

/// <summary>Wires the NATS JetStream feed when <c>Impact:Feeds:Nats:Url</c> is set; refuses a bad section before anything starts.</summary>
public static class FeedServices
{
    public static WebApplicationBuilder AddImpactFeeds(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(NatsFeedOptions.Section);
        var options = section.Get<NatsFeedOptions>() ?? new NatsFeedOptions();
        if (!options.Enabled)
        {
            return builder;
        }

        builder.AddValidatedOptions<NatsFeedOptions>(NatsFeedOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<FeedStatus>();
        builder.Services.AddSingleton<FeedMetrics>();
        builder.Services.AddHostedService<NatsFeedConsumer>();
        builder.Services.AddHealthChecks().AddCheck<FeedHealthCheck>("feed", tags: [HealthSetup.Ready]);
        return builder;
    }
}
