using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Validation;

namespace ImpactGrains.Abstractions;

/// <summary>
/// Lets Orleans serialize the domain's <see cref="ScoredEvent"/>, which stays free of Orleans attributes.
/// </summary>
[GenerateSerializer]
public struct ScoredEventSurrogate
{
    [Id(0)] public string EventId;
    [Id(1)] public long Sequence;
    [Id(2)] public byte Type;
    [Id(3)] public long OccurredAtTicks;
    [Id(4)] public string Region;
    [Id(5)] public double Impact;
}

[RegisterConverter]
public sealed class ScoredEventConverter : IConverter<ScoredEvent, ScoredEventSurrogate>
{
    public ScoredEvent ConvertFromSurrogate(in ScoredEventSurrogate surrogate) =>
        new(surrogate.EventId, surrogate.Sequence, (EventType)surrogate.Type, surrogate.OccurredAtTicks,
            // Interned: a million events then share a handful of region strings.
            Regions.TryNormalize(surrogate.Region, out var region) ? region : surrogate.Region,
            surrogate.Impact);

    public ScoredEventSurrogate ConvertToSurrogate(in ScoredEvent value) => new()
    {
        EventId = value.EventId,
        Sequence = value.Sequence,
        Type = (byte)value.Type,
        OccurredAtTicks = value.OccurredAtTicks,
        Region = value.Region,
        Impact = value.Impact,
    };
}
