using System.Globalization;
using System.Text;
using System.Text.Json;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;

namespace ImpactGrains.Scoring.Tests;

/// <summary>
/// The batch reader must judge every event exactly as <see cref="EventJson.Parse"/> over a parsed document does (the
/// definition of a valid event and of every error message): the same event, the same id, the same error. Checked
/// against that reference on random events built from valid and invalid pieces, and on whole bodies.
/// </summary>
public sealed class EventBatchReaderTests
{
    private static readonly DateTimeOffset LatestAllowed = new(2025, 3, 11, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The reference: parse the whole body as a document, then each element on its own.</summary>
    private static EventBatch Reference(string json, int maxEvents)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(Encoding.UTF8.GetBytes(json), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            return new EventBatch(null, new BatchProblem(BatchProblemKind.Malformed, $"the body is not valid JSON: {ex.Message}"));
        }

        using (document)
        {
            var root = document.RootElement;
            return root.ValueKind switch
            {
                JsonValueKind.Object => new EventBatch([One(root)], null),
                JsonValueKind.Array when root.GetArrayLength() > maxEvents => new EventBatch(null, new BatchProblem(BatchProblemKind.TooMany, "")),
                JsonValueKind.Array => new EventBatch(root.EnumerateArray().Select(One).ToList(), null),
                _ => new EventBatch(null, new BatchProblem(BatchProblemKind.WrongShape, "the body must be one event (a JSON object) or a JSON array of events")),
            };
        }

        static EventParseResult One(JsonElement element) => JsonStrings.AreValid(element)
            ? EventJson.Parse(element, LatestAllowed)
            : EventParseResult.Fail(null, $"the event is not valid JSON: {JsonStrings.Problem}");
    }

    private static void AssertSame(EventBatch expected, EventBatch actual, string json)
    {
        Assert.True(expected.Problem == actual.Problem, $"problem differs for {json}: {expected.Problem} vs {actual.Problem}");
        Assert.Equal(expected.Events?.Count, actual.Events?.Count);
        for (var i = 0; i < (expected.Events?.Count ?? 0); i++)
        {
            AssertSame(expected.Events![i], actual.Events![i], json);
        }
    }

    private static void AssertSame(EventParseResult expected, EventParseResult actual, string json)
    {
        Assert.True(expected.Error == actual.Error, $"error differs for {json}:\n  {expected.Error}\n  {actual.Error}");
        Assert.True(expected.Id == actual.Id, $"id differs for {json}");
        Assert.True(expected.Event == actual.Event, $"event differs for {json}:\n  {expected.Event}\n  {actual.Event}");
        if (expected.Event is { } e)
        {
            Assert.Equal(e.OccurredAt.Offset, actual.Event!.OccurredAt.Offset);
            Assert.Same(e.Region, actual.Event.Region); // interned alike
        }
    }

    [Theory]
    [InlineData("""{"id":"x-1","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00-04:00","region":"us","confidence":0.8,"source":"downdetector","data":{"reports":39021,"baselineReports":500,"durationMinutes":45}}""")]
    [InlineData("""{"id":"a","entity":"tesla","type":"stock-change","occurredAt":"2025-03-10T20:00:00Z","data":{"percent":-15}}""")]
    [InlineData("""{"id":"a","entity":"tesla","type":"sales-change","occurredAt":"2025-03-10T20:00:00.1234567+05:30","region":"GLOBAL","data":{"percent":-49,"units":1000,"period":"2025-02"}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"cyberattack","occurredAt":"2025-03-10T20:00:00Z"}""")]
    [InlineData("""{"id":"a","entity":"x","type":"cyberattack","occurredAt":"2025-03-10T20:00:00Z","data":{"claimed":true,"attribution":"unknown"}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"protest","occurredAt":"2024-02-29T20:00:00Z","data":{"locations":50}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"net-worth-change","occurredAt":"2025-03-10T20:00:00Z","data":{"deltaUsd":-132e9,"netWorthUsd":301e9}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"product-failure","occurredAt":"2025-03-10T20:00:00Z","data":{"severity":"critical","description":"Starship"}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"statement","occurredAt":"2025-03-10T20:00:00Z","data":{"severity":"major"},"extra":{"nested":[1,"two",null]}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"incident","occurredAt":"2025-03-10T20:00:00Z","data":{"status":"detected","reports":6000,"baselineMean":99.6,"baselineStdDev":9.1,"zScore":648.4,"startedAt":"2025-03-10T20:00:00Z"}}""")]
    [InlineData("""{"id":"\u0041","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}""")]
    [InlineData("""{"id":"\ud800","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}""")]
    [InlineData("""{"id":"é","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","region":"ıt","data":{"reports":1}}""")]
    [InlineData("""{"id":"a","id":"b","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1,"reports":2}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1,"other":2,"other":3}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10t10:00:00z","data":{"reports":1}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T23:59:60Z","data":{"reports":1}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00+14:01","data":{"reports":1}}""")]
    [InlineData("""{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00.12345678Z","data":{"reports":1}}""")]
    [InlineData("""[{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}, 7, "text", null, [], {}]""")]
    [InlineData("""[{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}},""")]
    [InlineData("""[{"id":"a"}] trailing""")]
    [InlineData("""42""")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("[]")]
    public void Hand_picked_bodies_read_as_the_reference_reads_them(string json)
    {
        AssertSame(Reference(json, 10), EventBatchReader.ReadJson(Encoding.UTF8.GetBytes(json), 10, LatestAllowed), json);
    }

    [Fact]
    public void Too_many_events_are_refused_whole_unless_the_body_is_malformed()
    {
        var one = """{"id":"a","entity":"x","type":"statement","occurredAt":"2025-03-10T10:00:00Z","data":{"severity":"minor"}}""";
        var body = "[" + string.Join(",", Enumerable.Repeat(one, 4)) + "]";
        Assert.Equal(BatchProblemKind.TooMany, EventBatchReader.ReadJson(Encoding.UTF8.GetBytes(body), 3, LatestAllowed).Problem?.Kind);
        Assert.Equal(BatchProblemKind.Malformed, EventBatchReader.ReadJson(Encoding.UTF8.GetBytes(body[..^1]), 3, LatestAllowed).Problem?.Kind);
        Assert.Equal(4, EventBatchReader.ReadJson(Encoding.UTF8.GetBytes(body), 4, LatestAllowed).Events?.Count);
    }

    [Fact]
    public void Ndjson_lines_are_judged_one_by_one_as_the_reference_does()
    {
        var lines = new[]
        {
            """{"id":"a","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}}""",
            "",
            """{"id":"b","entity":"x","type":"outage" broken""",
            """{"id":"c","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":1}} {}""",
            "  \t\r",
            """{"id":"d","entity":"x","type":"outage","occurredAt":"2025-03-10T10:00:00Z","data":{"reports":-1}}""",
            "[1]",
        };
        var body = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        var actual = EventBatchReader.ReadNdjson(body, 100, LatestAllowed).Events!;
        var expected = lines.Where(l => l.Trim(' ', '\t', '\r').Length > 0).Select(line =>
        {
            try
            {
                using var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 64 });
                return EventJson.Parse(document.RootElement, LatestAllowed);
            }
            catch (JsonException ex)
            {
                return EventParseResult.Fail(null, $"the line is not valid JSON: {ex.Message}");
            }
        }).ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            AssertSame(expected[i], actual[i], lines[i]);
        }

        Assert.Equal(BatchProblemKind.TooMany, EventBatchReader.ReadNdjson(body, 2, LatestAllowed).Problem?.Kind);
    }

    [Fact]
    public void Random_events_read_as_the_reference_reads_them()
    {
        var random = new Random(20251202);
        var generator = new RandomEvents(random);
        int valid = 0, fast = 0;
        for (var round = 0; round < 20_000; round++)
        {
            var json = generator.Event();
            var expected = Reference(json, 10);
            AssertSame(expected, EventBatchReader.ReadJson(Encoding.UTF8.GetBytes(json), 10, LatestAllowed), json);
            if (expected.Events?[0].Event is not null)
            {
                valid++;
                var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
                reader.Read();
                fast += EventFastReader.TryRead(ref reader, LatestAllowed, out _) ? 1 : 0;
            }
        }

        // The comparison means something only if both kinds are common: valid events, most of them on the fast path.
        Assert.True(valid > 1_000, $"{valid} valid events");
        Assert.True(fast > valid / 2, $"{fast} of {valid} valid events on the fast path");
    }

    [Fact]
    public void Random_arrays_read_as_the_reference_reads_them()
    {
        var random = new Random(7);
        var generator = new RandomEvents(random);
        for (var round = 0; round < 500; round++)
        {
            var json = "[" + string.Join(",", Enumerable.Range(0, random.Next(0, 30)).Select(_ => generator.Event())) + "]";
            AssertSame(Reference(json, 20), EventBatchReader.ReadJson(Encoding.UTF8.GetBytes(json), 20, LatestAllowed), json);
        }
    }

    /// <summary>
    /// Events from pieces: half of them clean (every piece valid, so most are accepted), half with invalid or unusual
    /// pieces mixed in at random (escapes, non-ASCII text, nulls, wrong types, duplicates, values out of range).
    /// </summary>
    private sealed class RandomEvents(Random random)
    {
        private static readonly Pool Ids = new(["x-1", "run-7-000123", new string('a', 200), "a b", "id\u0020x"], ["", new string('a', 201), "\u0041bc", "a\nb", "\u007f", "\u00e9", "é", "a\ud800", ""]);
        private static readonly Pool Entities = new(["x", "tesla", "elon-musk", new string('e', 64), "0-9"], ["X", "-x", new string('e', 65), "a_b", "é", "\u0078"]);
        private static readonly Pool Types = new(["outage", "cyberattack", "protest", "sales-change", "stock-change", "net-worth-change", "product-failure", "statement", "incident"], ["meteor", "Outage"]);
        private static readonly Pool Times = new(
            ["2025-03-10T10:00:00Z", "2025-03-10T10:00:00.5Z", "2025-03-10T10:00:00.1234567+02:00", "2025-03-10T10:00:00-04:00", "2024-02-29T00:00:00Z",
             "1900-01-01T00:00:00Z", "2025-03-11T00:04:59Z", "2025-03-10T10:00:00+14:00", "2025-03-10T10:00:00-13:59"],
            ["2025-02-29T00:00:00Z", "2025-03-10t10:00:00z", "2025-03-10T10:00:00", "2025-03-10 10:00:00Z", "2025-03-10T24:00:00Z", "2025-03-10T23:59:60Z",
             "1899-12-31T23:59:59Z", "1900-01-01T00:00:00+01:00", "2026-01-01T00:00:00Z", "2025-03-11T00:05:01Z", "2025-03-10T10:00:00-14:30",
             "2025-03-10T10:00:00.Z", "2025-13-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2025-03-10T10:00:00.12345678Z",
             "2025-03-10T10:00:00+05:60", "\u0032025-03-10T10:00:00Z"]);
        private static readonly Pool Regions = new(["US", "us", "Us", "DE", "cn", "GLOBAL", "global"], ["ZZ", "", "USA", "ıt", "\u0055S"]);
        private static readonly string[] Oddities = ["null", "true", "\"text\"", "[]", "{}", "{\"a\":1}", "1"];

        private sealed record Pool(string[] Valid, string[] Invalid);

        private bool clean;

        private T Pick<T>(T[] items) => items[random.Next(items.Length)];

        private bool Chance(double p) => random.NextDouble() < p;

        private bool Odd(double p) => !clean && Chance(p);

        private string From(Pool pool) => Odd(0.1) ? Pick(pool.Invalid) : Pick(pool.Valid);

        private string Quoted(Pool pool) => Odd(0.05) ? Pick(Oddities) : Quote(From(pool));

        /// <summary>A number in [min, max] (an integer where asked), or, sometimes, one outside or something else.</summary>
        private string Number(double min, double max, bool integer)
        {
            if (Odd(0.1))
            {
                return Pick(["-1", "1.5", "1e400", "-0", (max * 2).ToString("R", CultureInfo.InvariantCulture), (min - 1).ToString("R", CultureInfo.InvariantCulture), "\"7\"", "null", "{}"]);
            }

            var value = min + random.NextDouble() * (max - min);
            if (integer)
            {
                value = Math.Floor(value);
            }

            return Pick([value.ToString("R", CultureInfo.InvariantCulture), value.ToString("E10", CultureInfo.InvariantCulture), integer ? "0" : "0.25"]);
        }

        private string Text(int length) => Odd(0.1)
            ? Pick([Quote(new string('t', length + 1)), Quote("é"), Quote("a\\u0000"), Quote("a\\n"), Quote("\u007f"), "7", "null"])
            : Quote(new string('t', random.Next(0, length + 1)));

        private static string Quote(string s) => "\"" + s + "\"";

        public string Event()
        {
            clean = Chance(0.5);
            var type = From(Types);
            var properties = new List<string>();
            void Add(string name, string value, double p = 1)
            {
                if (Chance(p))
                {
                    properties.Add($"\"{name}\":{value}");
                }
            }

            var required = clean ? 1 : 0.97;
            Add("id", Quoted(Ids), required);
            Add("entity", Quoted(Entities), required);
            Add("type", Odd(0.05) ? Pick(Oddities) : Quote(type), required);
            Add("occurredAt", Quoted(Times), required);
            Add("region", Odd(0.1) ? Pick(Oddities) : Quote(From(Regions)), 0.6);
            Add("confidence", Number(0, 1, false), 0.3);
            Add("source", Text(500), 0.3);
            Add("data", Odd(0.05) ? Pick(Oddities) : Data(type), 0.95);
            Add("unknown", Chance(0.5) ? "{\"deep\":[1,{\"x\":\"y\"}]}" : Pick(Oddities), 0.2);
            if (Odd(0.05))
            {
                Add("unknown2", "{\"x\":\"é\"}");
            }

            if (Odd(0.05))
            {
                properties.Add(properties[random.Next(properties.Count)]); // a duplicate property
            }

            properties = properties.OrderBy(_ => random.Next()).ToList();
            return "{" + string.Join(",", properties) + "}";
        }

        private string Data(string type)
        {
            var fields = new List<string>();
            void Add(string name, string value, double p)
            {
                if (Chance(p))
                {
                    fields.Add($"\"{name}\":{value}");
                }
            }

            switch (type)
            {
                case "outage":
                    Add("reports", Number(0, 1e12, true), 0.97);
                    Add("baselineReports", Number(0, 1e12, true), 0.5);
                    Add("durationMinutes", Number(0, 5_256_000, false), 0.5);
                    break;
                case "cyberattack":
                    Add("claimed", Odd(0.1) ? Pick(Oddities) : Pick(["true", "false"]), 0.6);
                    Add("attribution", Text(200), 0.4);
                    break;
                case "protest":
                    Add("participants", Number(0, 1e12, true), 0.6);
                    Add("locations", Number(0, 1e6, true), 0.6);
                    break;
                case "sales-change":
                    Add("percent", Number(-100, 1e6, false), 0.97);
                    Add("units", Number(0, 1e12, true), 0.4);
                    Add("period", Text(200), 0.4);
                    break;
                case "stock-change":
                    Add("percent", Number(-100, 1e6, false), 0.97);
                    Add("closePrice", Number(0, 1e15, false), 0.4);
                    break;
                case "net-worth-change":
                    Add("deltaUsd", Number(-1e15, 1e15, false), 0.97);
                    Add("netWorthUsd", Number(0, 1e15, false), 0.5);
                    break;
                case "product-failure" or "statement":
                    Add("severity", Odd(0.1) ? Pick(["\"huge\"", "\"Minor\"", "1", "null"]) : Pick(["\"minor\"", "\"major\"", "\"critical\""]), 0.97);
                    Add("description", Text(2000), 0.4);
                    break;
                case "incident":
                    Add("status", Pick(["\"detected\"", "\"resolved\""]), 0.97);
                    Add("reports", Number(0, 1e6, true), 0.97);
                    Add("baselineMean", Number(0, 1e3, false), 0.97);
                    Add("baselineStdDev", Number(0, 1e3, false), 0.97);
                    Add("zScore", Number(-10, 100, false), 0.97);
                    Add("startedAt", Quoted(Times), 0.97);
                    Add("peakReports", Number(0, 1e6, true), 0.5);
                    break;
            }

            if (Odd(0.05))
            {
                Add("percent", Number(-100, 100, false), 1); // a field of another type
            }

            if (Odd(0.05))
            {
                Add("mystery", "1", 1);
            }

            if (fields.Count > 0 && Odd(0.05))
            {
                fields.Add(Odd(0.5) ? fields[random.Next(fields.Count)] : fields[random.Next(fields.Count)].Split(':')[0] + ":null");
            }

            return "{" + string.Join(",", fields.OrderBy(_ => random.Next())) + "}";
        }
    }

    [Fact]
    public void Timestamps_read_fast_equal_the_exact_parse()
    {
        var random = new Random(3);
        var fast = 0;
        for (var i = 0; i < 5_000; i++)
        {
            var instant = new DateTime(1900, 1, 1).AddTicks((long)(random.NextDouble() * (new DateTime(9000, 1, 1) - new DateTime(1900, 1, 1)).Ticks));
            var offset = TimeSpan.FromMinutes(random.Next(-14 * 60, 14 * 60 + 1));
            var digits = random.Next(0, 8);
            var text = instant.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture)
                       + (digits > 0 ? "." + (instant.Ticks % 10_000_000).ToString("0000000", CultureInfo.InvariantCulture)[..digits] : "")
                       + (offset == TimeSpan.Zero && random.Next(2) == 0 ? "Z" : (offset < TimeSpan.Zero ? "-" : "+") + offset.ToString("hh\\:mm", CultureInfo.InvariantCulture));
            var expected = EventJson.ParseTimestamp(text);
            if (EventFastReader.TryTimestamp(Encoding.ASCII.GetBytes(text), out var actual))
            {
                Assert.Equal(expected, actual);
                Assert.Equal(expected!.Value.Offset, actual.Offset);
                fast++;
            }
        }

        Assert.Equal(5_000, fast); // every one of these is in the fast path's form
    }
}
