using ImpactGrains.Abstractions;
using Orleans.Concurrency;

namespace ImpactGrains.Grains.Ownership;

/// <inheritdoc cref="IEventWriterGrain"/>
/// <remarks>
/// Reentrant: requests from every silo interleave into the local log writer, which commits them together. It keeps no
/// state; the order of an entity's events is the log writer's.
/// </remarks>
[Reentrant]
[SiloPinnedPlacement]
public sealed class EventWriterGrain(OwnedEventAppender appender, ILocalSiloDetails localSilo) : Grain, IEventWriterGrain
{
    private bool misplaced;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        misplaced = this.GetPrimaryKeyString() != localSilo.SiloAddress.ToParsableString();
        return Task.CompletedTask;
    }

    public Task<long[]> AppendAsync(OwnedEvents events)
    {
        if (misplaced)
        {
            // Placed away from the silo it names (that silo was unknown here when this one was placed): append anyway,
            // the log keeps it correct, and step aside so that the next call is placed anew.
            DeactivateOnIdle();
        }

        return appender.AppendAsync(events.Events);
    }
}
