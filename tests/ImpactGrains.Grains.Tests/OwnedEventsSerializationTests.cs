using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Xunit;

namespace ImpactGrains.Grains.Tests;

public sealed class OwnedEventsSerializationTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 10, 9, 0, 0, TimeSpan.Zero);

    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void A_request_share_reaches_its_owner_with_every_event_whole_and_in_order()
    {
        IReadOnlyList<ImpactEvent> events =
        [
            new("x-outage", "x", EventType.Outage, Start.AddTicks(1), "US", 0.8, "downdetector", new OutageData(39021, 500, 45.5)),
            new("t-sales", "tesla", EventType.SalesChange, Start.AddMinutes(1), "CN", 1, "CPCA", new SalesChangeData(-49, 1_000_000, "2025-02")),
            new("x-cyber", "x", EventType.Cyberattack, Start.AddMinutes(2), "GLOBAL", 0.3, null, new CyberattackData(false, "“massive” attack ✓")),
            new("t-stock", "tesla", EventType.StockChange, Start.AddMinutes(3), "US", 1, null, new StockChangeData(-15.4, null)),
            new("m-worth", "elon-musk", EventType.NetWorthChange, Start.AddMinutes(4), "GLOBAL", 1, null, new NetWorthChangeData(-132e9, 301e9)),
            new("s-failure", "spacex", EventType.ProductFailure, Start.AddMinutes(5), "US", 1, null, new SeverityData(Severity.Critical, null)),
            new("x-incident", "x", EventType.Incident, Start.AddMinutes(6), "US", 1, "spike-detector",
                new IncidentData(IncidentStatus.Detected, 6000, 99.6, 9.1, 648.4, Start.AddMinutes(5), 6500)),
        ];

        var copy = Serializer.Deserialize<OwnedEvents>(Serializer.SerializeToArray(new OwnedEvents(events)))!;

        Assert.Equal(events, copy.Events);
        Assert.Empty(Serializer.Deserialize<OwnedEvents>(Serializer.SerializeToArray(new OwnedEvents([])))!.Events);
    }

    [Fact]
    public void A_truncated_share_is_refused_rather_than_read_short()
    {
        IReadOnlyList<ImpactEvent> events = [new("x-1", "x", EventType.Statement, Start, "US", 1, null, new SeverityData(Severity.Major, "a statement of some length"))];
        var converter = new Ownership.OwnedEventsConverter();
        var body = converter.ConvertToSurrogate(new OwnedEvents(events)).Body;

        Assert.Equal(events, converter.ConvertFromSurrogate(new Ownership.OwnedEventsSurrogate { Body = body }).Events);
        Assert.Throws<EndOfStreamException>(() => converter.ConvertFromSurrogate(new Ownership.OwnedEventsSurrogate { Body = body[..^5] }));
        var otherFormat = (byte[])body.Clone();
        otherFormat[0] = 9;
        Assert.Contains("unknown format 9", Assert.Throws<InvalidDataException>(() => converter.ConvertFromSurrogate(new Ownership.OwnedEventsSurrogate { Body = otherFormat })).Message);
    }
}
