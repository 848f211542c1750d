using System.Net;
using System.Text.Json;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class AdminModelsTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    private static double Score(double raw) => 100 * (1 - Math.Exp(-raw / 10)); // κ = 10

    private static JsonElement Find(JsonElement versions, string name) =>
        versions.EnumerateArray().Single(v => v.GetProperty("name").GetString() == name);

    [Fact]
    public async Task The_configured_model_is_registered_at_start_and_listed_as_current()
    {
        var versions = await Api.GetJsonAsync("/api/admin/models");
        var v1 = Find(versions, "v1");

        Assert.True(v1.GetProperty("current").GetBoolean());
        Assert.Matches("^v1#[0-9a-f]{16}$", v1.GetProperty("identity").GetString());
        Assert.True(v1.GetProperty("createdAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow);
        var parameters = v1.GetProperty("parameters");
        Assert.Equal("v1", parameters.GetProperty("version").GetString());
        Assert.Equal(10, parameters.GetProperty("kappa").GetDouble());
        Assert.Equal(1, parameters.GetProperty("types").GetProperty("outage").GetProperty("severity").GetDouble());
        Assert.Equal("12:00:00", parameters.GetProperty("types").GetProperty("outage").GetProperty("halfLife").GetString());
        Assert.Equal(1.5, parameters.GetProperty("severityMagnitudes").GetProperty("major").GetDouble());

        // Registering v1's own parameters again changes nothing.
        var again = await (await Api.PostJsonAsync("/api/admin/models", parameters.GetRawText())).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(v1.GetProperty("identity").GetString(), again.GetProperty("identity").GetString());
        Assert.Equal(v1.GetProperty("createdAt").GetDateTimeOffset(), again.GetProperty("createdAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task A_new_version_is_created_once_and_its_parameters_never_change()
    {
        var created = await Api.PostJsonAsync("/api/admin/models", """{"version":"adm-k5","kappa":5,"types":{"protest":{"halfLife":"2.12:00:00"}}}""");
        Assert.Equal("/api/admin/models/adm-k5", created.Headers.Location?.OriginalString);
        var body = await created.JsonAsync(HttpStatusCode.Created);
        Assert.Equal("adm-k5", body.GetProperty("name").GetString());
        Assert.StartsWith("adm-k5#", body.GetProperty("identity").GetString());
        Assert.False(body.GetProperty("current").GetBoolean());
        var parameters = body.GetProperty("parameters");
        Assert.Equal(5, parameters.GetProperty("kappa").GetDouble());
        Assert.Equal("2.12:00:00", parameters.GetProperty("types").GetProperty("protest").GetProperty("halfLife").GetString());
        Assert.Equal("12:00:00", parameters.GetProperty("types").GetProperty("outage").GetProperty("halfLife").GetString()); // v1's value
        Assert.Equal(500, parameters.GetProperty("outageBaselineFloor").GetDouble());

        // The same parameters again (written out in full this time): 200, the same version.
        var same = await (await Api.PostJsonAsync("/api/admin/models", parameters.GetRawText())).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(body.GetProperty("identity").GetString(), same.GetProperty("identity").GetString());

        // Other parameters under a registered name: refused, for this version and for the current one.
        var detail = await (await Api.PostJsonAsync("/api/admin/models", """{"version":"adm-k5","kappa":6}""")).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("'adm-k5' is already registered with other parameters", detail);
        await (await Api.PostJsonAsync("/api/admin/models", """{"version":"v1","types":{"outage":{"severity":2}}}""")).ProblemAsync(HttpStatusCode.Conflict);

        var fetched = await Api.GetJsonAsync("/api/admin/models/adm-k5");
        Assert.Equal(parameters.GetRawText(), fetched.GetProperty("parameters").GetRawText());
        Assert.Equal(5, Find(await Api.GetJsonAsync("/api/admin/models"), "adm-k5").GetProperty("parameters").GetProperty("kappa").GetDouble());
        Assert.Contains("adm-nothing", await (await Api.GetAsync("/api/admin/models/adm-nothing")).ProblemAsync(HttpStatusCode.NotFound));
    }

    [Theory]
    [InlineData("""{"version":"adm-bad","kappa":-1}""", "kappa: must be a positive number")]
    [InlineData("""{"version":"adm-bad","types":{"outage":{"halfLife":"30s"}}}""", "types.outage.halfLife: must be a time span")]
    [InlineData("""{"version":"adm-bad","types":{"recall":{"severity":1}}}""", "types.recall: unknown event type")]
    [InlineData("""{"version":"adm-bad","severityMagnitudes":{"major":"big"}}""", "severityMagnitudes.major: must be a number ≥ 0")]
    [InlineData("""{"version":"adm-bad","claimedCyberattackFactor":2}""", "claimedCyberattackFactor: must be a number from 0 to 1")]
    [InlineData("""{"version":"adm-bad","kapa":5}""", "kapa: unknown field")]
    [InlineData("""{"kappa":5}""", "version: required string")]
    [InlineData("""{"version":"adm bad"}""", "version: required string")]
    [InlineData("""[1]""", "the body must be a JSON object")]
    public async Task Invalid_parameters_are_a_400_that_names_the_field(string json, string expected)
    {
        var detail = await (await Api.PostJsonAsync("/api/admin/models", json)).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
        Assert.DoesNotContain((await Api.GetJsonAsync("/api/admin/models")).EnumerateArray(), v => v.GetProperty("name").GetString() == "adm-bad");
        await (await Api.GetAsync("/api/admin/models/adm-bad")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Registering_needs_a_json_body()
    {
        var response = await Api.PostAsync("/api/admin/models", new StringContent("""{"version":"adm-text"}""", System.Text.Encoding.UTF8, "text/plain"));
        await response.ProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Rescoring_under_doubled_outage_severity_moves_the_outage_hit_entity_up_by_the_formula()
    {
        await Api.RegisterAsync("adm-hit", name: "Adm Hit");
        await Api.RegisterAsync("adm-calm", name: "Adm Calm");
        await Api.RegisterAsync("adm-flat", name: "Adm Flat");
        var events = new[]
        {
            Outage("adm-hit-o1", "adm-hit", "2025-03-10T14:00:00Z", 39021),
            """{"id":"adm-calm-s1","entity":"adm-calm","type":"statement","occurredAt":"2025-03-10T14:00:00Z","data":{"severity":"major"}}""",
            """{"id":"adm-flat-p1","entity":"adm-flat","type":"sales-change","occurredAt":"2025-03-10T14:00:00Z","region":"DE","data":{"percent":-20}}""",
        };
        var ingested = await (await Api.PostJsonAsync("/api/events", "[" + string.Join(",", events) + "]")).JsonAsync();
        Assert.Equal(3, ingested.GetProperty("accepted").GetInt32());
        await (await Api.PostJsonAsync("/api/admin/models",
            """{"version":"adm-outage-x2","types":{"outage":{"severity":2},"statement":{"severity":0.5}}}""")).JsonAsync(HttpStatusCode.Created);

        const string at = "2025-03-10T20:00:00Z";
        var request = $$"""{"version":"adm-outage-x2","at":"{{at}}","limit":1000}""";
        var response = await Api.PostJsonAsync("/api/admin/rescore", request);
        var text = await response.Content.ReadAsStringAsync();
        var report = await response.JsonAsync();

        // By hand, six hours after the events (scoring.md sections 1–3):
        // outage: ln(1 + 39021/500) × (1 + 0.25·log2(1 + 0/60)), halved every 12 h → × 2^(−6/12); severity 1, then 2.
        var outage = Math.Log(1 + 39021.0 / 500) * Math.Pow(2, -6.0 / 12);
        var (hitBefore, hitAfter) = (Score(1.0 * outage), Score(2.0 * outage));
        // statement, major: magnitude 1.5, halved every 72 h; severity 1, then 0.5.
        var statement = 1.5 * Math.Pow(2, -6.0 / 72);
        var (calmBefore, calmAfter) = (Score(1.0 * statement), Score(0.5 * statement));

        Assert.Equal("v1", report.GetProperty("from").GetString());
        Assert.Equal("adm-outage-x2", report.GetProperty("to").GetString());
        Assert.Equal(DateTimeOffset.Parse(at), report.GetProperty("at").GetDateTimeOffset());
        Assert.Equal((await Api.GetJsonAsync("/api/entities")).GetArrayLength(), report.GetProperty("entities").GetInt32());

        var up = report.GetProperty("movers").GetProperty("up").EnumerateArray().ToList();
        var down = report.GetProperty("movers").GetProperty("down").EnumerateArray().ToList();
        Assert.Equal(up.Count + down.Count, report.GetProperty("changed").GetInt32());

        var hit = up.Single(m => m.GetProperty("entity").GetString() == "adm-hit");
        Assert.Equal("Adm Hit", hit.GetProperty("name").GetString());
        Assert.Equal(hitBefore, hit.GetProperty("before").GetDouble(), 9);
        Assert.Equal(hitAfter, hit.GetProperty("after").GetDouble(), 9);
        Assert.Equal(hitAfter - hitBefore, hit.GetProperty("delta").GetDouble(), 9);
        Assert.Equal(19.5161, hitAfter - hitBefore, 4); // 26.5822 → 46.0983

        var calm = down.Single(m => m.GetProperty("entity").GetString() == "adm-calm");
        Assert.Equal(calmBefore, calm.GetProperty("before").GetDouble(), 9);
        Assert.Equal(calmAfter, calm.GetProperty("after").GetDouble(), 9);
        Assert.Equal(calmAfter - calmBefore, calm.GetProperty("delta").GetDouble(), 9);

        // Sales drops weigh the same under both versions: not a mover.
        Assert.DoesNotContain(up.Concat(down), m => m.GetProperty("entity").GetString() == "adm-flat");

        // "before" is the current model's score, as the live grains answer it too.
        var live = await Api.GetJsonAsync($"/api/entities/adm-hit/impact?at={at}");
        Assert.Equal(live.GetProperty("score").GetDouble(), hit.GetProperty("before").GetDouble(), 9);
        Assert.Equal("v1", live.GetProperty("modelVersion").GetString());

        // Largest change first in each direction, ties by entity id.
        static void AssertOrdered(List<JsonElement> movers)
        {
            for (var i = 1; i < movers.Count; i++)
            {
                var (a, b) = (Math.Abs(movers[i - 1].GetProperty("delta").GetDouble()), Math.Abs(movers[i].GetProperty("delta").GetDouble()));
                Assert.True(a > b || (a == b && string.CompareOrdinal(movers[i - 1].GetProperty("entity").GetString(), movers[i].GetProperty("entity").GetString()) < 0));
            }
        }

        AssertOrdered(up);
        AssertOrdered(down);
        Assert.All(up, m => Assert.True(m.GetProperty("delta").GetDouble() > 0));
        Assert.All(down, m => Assert.True(m.GetProperty("delta").GetDouble() < 0));

        // Deterministic: the same log and version give the same answer, byte for byte.
        var again = await (await Api.PostJsonAsync("/api/admin/rescore", request)).Content.ReadAsStringAsync();
        Assert.Equal(text, again);

        // limit caps each direction; the count of changed entities stays.
        var one = await (await Api.PostJsonAsync("/api/admin/rescore", $$"""{"version":"adm-outage-x2","at":"{{at}}","limit":1}""")).JsonAsync();
        Assert.Single(one.GetProperty("movers").GetProperty("up").EnumerateArray());
        Assert.Equal(up[0].GetRawText(), one.GetProperty("movers").GetProperty("up")[0].GetRawText());
        Assert.Equal(report.GetProperty("changed").GetInt32(), one.GetProperty("changed").GetInt32());

        // The live scores are untouched: rescoring is a what-if.
        Assert.Equal(live.GetRawText(), (await Api.GetJsonAsync($"/api/entities/adm-hit/impact?at={at}")).GetRawText());
    }

    [Fact]
    public async Task Rescoring_under_the_current_version_changes_nothing()
    {
        var report = await Api.PostJsonAsync("/api/admin/rescore", """{"version":"v1"}""");
        var body = await report.JsonAsync();
        Assert.Equal(("v1", "v1", 0), (body.GetProperty("from").GetString(), body.GetProperty("to").GetString(), body.GetProperty("changed").GetInt32()));
        Assert.Empty(body.GetProperty("movers").GetProperty("up").EnumerateArray());
        Assert.Empty(body.GetProperty("movers").GetProperty("down").EnumerateArray());
        Assert.InRange(body.GetProperty("at").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Theory]
    [InlineData("""{"at":"2025-03-10T20:00:00Z"}""", HttpStatusCode.BadRequest, "version: required string")]
    [InlineData("""{"version":7}""", HttpStatusCode.BadRequest, "version: required string")]
    [InlineData("""{"version":"v1","at":"yesterday"}""", HttpStatusCode.BadRequest, "at: 'yesterday' is not an RFC 3339 timestamp")]
    [InlineData("""{"version":"v1","at":1741636800}""", HttpStatusCode.BadRequest, "at: must be an RFC 3339 timestamp")]
    [InlineData("""{"version":"v1","limit":0}""", HttpStatusCode.BadRequest, "limit: must be a whole number from 1 to 1000")]
    [InlineData("""{"version":"v1","limit":2.5}""", HttpStatusCode.BadRequest, "limit: must be a whole number from 1 to 1000")]
    [InlineData("""{"version":"adm-never-registered"}""", HttpStatusCode.NotFound, "there is no model version 'adm-never-registered'")]
    public async Task Rescore_refuses_a_bad_request_and_an_unknown_version(string json, HttpStatusCode status, string expected)
    {
        var detail = await (await Api.PostJsonAsync("/api/admin/rescore", json)).ProblemAsync(status);
        Assert.Contains(expected, detail);
    }
}
