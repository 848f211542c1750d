using System.Text.Json;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;

namespace ImpactGrains.Scoring.Tests;

public sealed class EventJsonTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 11, 0, 0, 0, TimeSpan.Zero);

    private static EventParseResult Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return EventJson.Parse(document.RootElement, Now);
    }

    [Fact]
    public void A_complete_outage_is_read_with_every_field()
    {
        var result = Parse("""
            {"id":"x-1","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00-04:00","region":"us",
             "confidence":0.8,"source":"downdetector","data":{"reports":39021,"baselineReports":500,"durationMinutes":45}}
            """);

        Assert.Null(result.Error);
        var e = result.Event!;
        Assert.Equal(("x-1", "x", EventType.Outage, "US", 0.8, "downdetector"), (e.Id, e.Entity, e.Type, e.Region, e.Confidence, e.Source));
        Assert.Equal(new DateTimeOffset(2025, 3, 10, 14, 0, 0, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal(TimeSpan.Zero, e.OccurredAt.Offset);
        Assert.Equal(new OutageData(39021, 500, 45), e.Data);
    }

    [Fact]
    public void Defaults_are_global_region_and_full_confidence()
    {
        var e = Parse("""{"id":"a","entity":"tesla","type":"stock-change","occurredAt":"2025-03-10T20:00:00Z","data":{"percent":-15}}""").Event!;
        Assert.Equal(ImpactEvent.GlobalRegion, e.Region);
        Assert.Equal(1.0, e.Confidence);
        Assert.Null(e.Source);
    }

    [Theory]
    [InlineData("""{"entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}""", "id:")]
    [InlineData("""{"id":"","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}""", "id:")]
    [InlineData("""{"id":"a","entity":"X!","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}""", "entity:")]
    [InlineData("""{"id":"a","entity":"x","type":"meteor","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}""", "type: unknown event type 'meteor'")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10 10:00:00","data":{"reports":1}}""", "occurredAt:")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00","data":{"reports":1}}""", "occurredAt:")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-02-30T10:00:00Z","data":{"reports":1}}""", "occurredAt:")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2030-01-01T00:00:00Z","data":{"reports":1}}""", "in the future")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"1899-12-31T23:00:00Z","data":{"reports":1}}""", "before 1900")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","region":"ZZ","data":{"reports":1}}""", "region:")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","confidence":1.5,"data":{"reports":1}}""", "confidence:")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","confidence":"high","data":{"reports":1}}""", "confidence:")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{}}""", "data.reports: required")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":-1}}""", "data.reports:")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1.5}}""", "data.reports:")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1e400}}""", "data.reports:")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":"many"}}""", "data.reports:")]
    [InlineData("""{"id":"a","entity":"x","type":"protest","occurredAt":"2025-03-10T10:00:00Z","data":{}}""", "needs participants or locations")]
    [InlineData("""{"id":"a","entity":"x","type":"sales-change","occurredAt":"2025-03-10T10:00:00Z","data":{"percent":-101}}""", "data.percent:")]
    [InlineData("""{"id":"a","entity":"x","type":"stock-change","occurredAt":"2025-03-10T10:00:00Z"}""", "data.percent: required")]
    [InlineData("""{"id":"a","entity":"x","type":"net-worth-change","occurredAt":"2025-03-10T10:00:00Z","data":{"netWorthUsd":5}}""", "data.deltaUsd: required")]
    [InlineData("""{"id":"a","entity":"x","type":"product-failure","occurredAt":"2025-03-10T10:00:00Z","data":{"severity":"apocalyptic"}}""", "data.severity:")]
    [InlineData("""{"id":"a","entity":"x","type":"statement","occurredAt":"2025-03-10T10:00:00Z","data":{}}""", "data.severity:")]
    [InlineData("""{"id":"a","entity":"x","type":"cyberattack","occurredAt":"2025-03-10T10:00:00Z","data":{"claimed":"yes"}}""", "data.claimed:")]
    [InlineData("""{"id":"a","id":"b","entity":"x","type":"cyberattack","occurredAt":"2025-03-10T10:00:00Z"}""", "duplicate property 'id'")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1,"reports":2}}""", "duplicate property 'reports'")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":[1]}""", "data: must be a JSON object")]
    [InlineData("""[1,2]""", "must be a JSON object")]
    public void Each_invalid_field_is_named_in_the_error(string json, string expected)
    {
        var result = Parse(json);
        Assert.Null(result.Event);
        Assert.Contains(expected, result.Error);
    }

    [Fact]
    public void An_id_over_200_characters_is_refused()
    {
        var id = new string('a', 201);
        var result = Parse($$$"""{"id":"{{{id}}}","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}""");
        Assert.StartsWith("id:", result.Error);
    }

    [Fact]
    public void The_rejection_names_the_id_when_it_could_be_read()
    {
        var result = Parse("""{"id":"evt-9","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{}}""");
        Assert.Equal("evt-9", result.Id);
    }

    public static TheoryData<string> EveryType => new()
    {
        """{"id":"1","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00.123Z","region":"US","confidence":0.5,"source":"s","data":{"reports":10,"baselineReports":2,"durationMinutes":1.5}}""",
        """{"id":"2","entity":"x","type":"cyberattack","occurredAt":"2025-03-10T10:00:00Z","data":{"claimed":true,"attribution":"someone"}}""",
        """{"id":"3","entity":"tesla","type":"protest","occurredAt":"2025-03-10T10:00:00+01:00","data":{"participants":1000,"locations":12}}""",
        """{"id":"4","entity":"tesla","type":"sales-change","occurredAt":"2025-03-10T10:00:00Z","data":{"percent":-49,"units":1000,"period":"2025-02"}}""",
        """{"id":"5","entity":"tesla","type":"stock-change","occurredAt":"2025-03-10T10:00:00Z","data":{"percent":-15.4,"closePrice":222.15}}""",
        """{"id":"6","entity":"elon-musk","type":"net-worth-change","occurredAt":"2025-03-10T10:00:00Z","data":{"deltaUsd":-132000000000,"netWorthUsd":301000000000}}""",
        """{"id":"7","entity":"spacex","type":"product-failure","occurredAt":"2025-03-07T00:30:00Z","data":{"severity":"critical","description":"Starship"}}""",
        """{"id":"8","entity":"elon-musk","type":"statement","occurredAt":"2025-03-10T10:00:00Z","data":{"severity":"minor"}}""",
    };

    [Theory]
    [MemberData(nameof(EveryType))]
    public void The_stored_form_reads_back_to_the_same_event(string json)
    {
        var original = Parse(json).Event!;
        var stored = EventJson.Serialize(original);
        Assert.Equal(original, EventJson.Deserialize(stored));
        Assert.Equal(stored, EventJson.Serialize(EventJson.Deserialize(stored)));
    }
}
