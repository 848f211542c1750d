using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage;

namespace ImpactGrains.Grains.Ownership;

/// <summary>
/// Lets Orleans carry the domain's <see cref="ImpactEvent"/> (free of Orleans attributes) between silos in the log's own
/// binary form: one codec for the wire and the log, and a few dozen bytes per event.
/// </summary>
[GenerateSerializer]
public struct ImpactEventSurrogate
{
    [Id(0)] public string Id;
    [Id(1)] public string Entity;
    [Id(2)] public long OccurredAtTicks;
    [Id(3)] public byte[] Body;
}

[RegisterConverter]
public sealed class ImpactEventConverter : IConverter<ImpactEvent, ImpactEventSurrogate>
{
    public ImpactEvent ConvertFromSurrogate(in ImpactEventSurrogate surrogate) =>
        EventCodec.Decode(surrogate.Id, surrogate.Entity, surrogate.OccurredAtTicks, surrogate.Body);

    public ImpactEventSurrogate ConvertToSurrogate(in ImpactEvent value) => new()
    {
        Id = value.Id,
        Entity = value.Entity,
        OccurredAtTicks = value.OccurredAt.UtcTicks,
        Body = EventCodec.Encode(value),
    };
}
