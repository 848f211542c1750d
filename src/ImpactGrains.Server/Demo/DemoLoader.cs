using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Ingestion;
using ImpactGrains.Storage;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Demo;

/// <summary>
/// On the first start into an empty store (and with Impact:Demo on), registers the demo entities and links and
/// ingests the demo events through the normal ingestion path, shifted so that the last event lies just before now.
/// </summary>
public sealed partial class DemoLoader(
    IEntityCatalog catalog,
    IngestionService ingestion,
    IGrainFactory grains,
    TimeProvider time,
    IOptions<ImpactOptions> options,
    ILogger<DemoLoader> logger) : IHostedService
{
    public static readonly TimeSpan LastEventAge = TimeSpan.FromMinutes(2);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.LoadsDemo || (await catalog.PageEntitiesAsync(null, 1, null, null, cancellationToken)).Count > 0)
        {
            return;
        }

        foreach (var (id, name, kind, tags) in DemoScenario.Entities)
        {
            await catalog.UpsertEntityAsync(id, name, kind, tags, cancellationToken);
        }

        foreach (var link in DemoScenario.Links)
        {
            await catalog.UpsertLinkAsync(link, cancellationToken);
        }

        await Task.WhenAll(DemoScenario.Entities.Select(e => grains.GetEntityGrain(e.Id).ReloadAsync()));
        var (groupId, groupName, method, members) = DemoScenario.Group;
        await catalog.UpsertGroupAsync(groupId, groupName, method, members.Select(m => new GroupMember(m, 1.0)).ToList(), cancellationToken);

        var shift = time.GetUtcNow() - LastEventAge - DemoScenario.Events.Max(e => e.OccurredAt);
        var events = DemoScenario.Events
            .Select(e => new EventParseResult(e with { OccurredAt = e.OccurredAt + shift }, e.Id, null))
            .ToList();
        var result = await ingestion.IngestAsync(events, cancellationToken);
        LogLoaded(DemoScenario.Entities.Count, result.Accepted, shift);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded the demo scenario: {Entities} entities, {Events} events, shifted by {Shift} to end now")]
    private partial void LogLoaded(int entities, int events, TimeSpan shift);
}
