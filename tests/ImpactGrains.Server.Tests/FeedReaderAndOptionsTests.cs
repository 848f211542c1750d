using System.Text;
using System.Text.Json;
using ImpactGrains.Server.Feeds;

namespace ImpactGrains.Server.Tests;

/// <summary>The feed's message reader and its configuration checks, in-process (no NATS needed).</summary>
public sealed class FeedReaderAndOptionsTests
{
    private static readonly DateTimeOffset Latest = DateTimeOffset.UtcNow.AddMinutes(5);

    private static string Event(string id, string confidence = "1") =>
        $$$"""{"id":"{{{id}}}","entity":"acme","type":"outage","occurredAt":"2026-11-27T10:00:00Z","confidence":{{{confidence}}},"data":{"reports":900,"baselineReports":500}}""";

    [Fact]
    public void Without_a_content_type_a_message_is_json_unless_its_first_line_is_a_value_by_itself()
    {
        var single = FeedMessageReader.Read(Encoding.UTF8.GetBytes(Event("a")), null, 100, Latest);
        Assert.Equal(FeedBodyFormat.Json, single.Format);
        Assert.Single(single.Events!);

        var pretty = FeedMessageReader.Read(Encoding.UTF8.GetBytes("[\n" + Event("a") + ",\n" + Event("b") + "\n]"), null, 100, Latest);
        Assert.Equal(FeedBodyFormat.Json, pretty.Format);
        Assert.Equal(2, pretty.Events!.Count);

        var ndjson = FeedMessageReader.Read(Encoding.UTF8.GetBytes(Event("a") + "\n\n" + Event("b") + "\nnot json\n"), null, 100, Latest);
        Assert.Equal(FeedBodyFormat.Ndjson, ndjson.Format);
        Assert.Equal(3, ndjson.Events!.Count);
        Assert.NotNull(ndjson.Events[2].Error);

        var broken = FeedMessageReader.Read(Encoding.UTF8.GetBytes("not json\n" + Event("a")), null, 100, Latest);
        Assert.Null(broken.Events);
        Assert.NotNull(broken.Problem);
    }

    [Theory]
    [InlineData("", "application/json", "the message is empty")]
    [InlineData("{}", "text/plain", "unsupported Content-Type 'text/plain'")]
    [InlineData("[1,2,3]", "application/json", "more than 2 events")]
    public void A_message_that_cannot_be_read_says_why(string body, string contentType, string problem)
    {
        var read = FeedMessageReader.Read(Encoding.UTF8.GetBytes(body), contentType, 2, Latest);
        Assert.Null(read.Events);
        Assert.Contains(problem, read.Problem);
    }

    [Fact]
    public void Event_ranges_point_at_each_event_as_received_and_rejections_carry_it()
    {
        var body = Encoding.UTF8.GetBytes("[ " + Event("a") + " ,\n  " + Event("b", "2") + " ]");
        var ranges = FeedMessageReader.EventRanges(body, FeedBodyFormat.Json);
        Assert.Equal(2, ranges.Count);
        Assert.Equal(Event("b", "2"), Encoding.UTF8.GetString(body[ranges[1]]));

        var lines = Encoding.UTF8.GetBytes("\n" + Event("a") + "\r\n\n  not json  \n");
        var lineRanges = FeedMessageReader.EventRanges(lines, FeedBodyFormat.Ndjson);
        Assert.Equal(["not json"], [Encoding.UTF8.GetString(lines[lineRanges[1]])]);

        using var asJson = JsonDocument.Parse(FeedMessageReader.Rejection("confidence: must be a number from 0 to 1", "b", body[ranges[1]]));
        Assert.Equal("b", asJson.RootElement.GetProperty("id").GetString());
        Assert.Equal(2, asJson.RootElement.GetProperty("event").GetProperty("confidence").GetInt32());

        using var asText = JsonDocument.Parse(FeedMessageReader.Rejection("not JSON", null, lines[lineRanges[1]]));
        Assert.Equal(JsonValueKind.Null, asText.RootElement.GetProperty("id").ValueKind);
        Assert.Equal("not json", asText.RootElement.GetProperty("event").GetString());
    }

    [Theory]
    [InlineData("http://nats:4222", null, null, null, "Url: not a NATS server address")]
    [InlineData("nats://u:p@nats:4222", "u", "p", null, "give them once")]
    [InlineData("nats://nats:4222", "u", null, null, "User and Password go together")]
    [InlineData("nats://nats:4222", "u", "p", "t", "give one kind of credentials")]
    public void Bad_credentials_and_addresses_are_refused_without_echoing_a_secret(string url, string? user, string? password, string? token, string error)
    {
        var options = new NatsFeedOptions { Url = url, User = user, Password = password, Token = token };
        var problem = options.Validate();
        Assert.NotNull(problem);
        Assert.Contains(error, problem);
        Assert.DoesNotContain(":p@", problem);
    }

    [Theory]
    [InlineData("IMPACT EVENTS", "impact.events.>", "impact.rejected", "Stream:")]
    [InlineData("IMPACT_EVENTS", "impact.>.events", "impact.rejected", "Subjects:")]
    [InlineData("IMPACT_EVENTS", "impact.events.>", "impact.*", "RejectedSubject:")]
    [InlineData("IMPACT_EVENTS", "impact.>", "impact.rejected", "inside the stream's subject 'impact.>'")]
    public void Bad_names_and_subjects_are_refused(string stream, string subjects, string rejected, string error)
    {
        var options = new NatsFeedOptions { Url = "nats://nats:4222", Stream = stream, Subjects = subjects, RejectedSubject = rejected };
        Assert.Contains(error, options.Validate());
    }

    [Fact]
    public void Servers_are_shown_without_their_credentials_and_the_defaults_are_valid()
    {
        var options = new NatsFeedOptions { Url = "nats://impact:pa%40ss@nats-0:4222, tls://token123@nats-1" };
        Assert.Null(options.Validate());
        Assert.Equal("nats://nats-0:4222,tls://nats-1:4222", options.DisplayServers);
        Assert.Null(new NatsFeedOptions().Validate()); // no URL, no feed
        Assert.False(new NatsFeedOptions().Enabled);
    }
}
