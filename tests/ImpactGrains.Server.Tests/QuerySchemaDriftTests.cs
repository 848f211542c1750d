using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ImpactGrains.Server.Hosting;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// The query parameters in the served OpenAPI document against the endpoints that parse them by hand. Every query
/// parameter of every operation is sent alone (beside a base query the operation needs) with values just inside and
/// just outside its documented schema: each enum value and one outside, the bounds of a range, a length limit, values
/// the pattern takes and refuses (judged by the documented pattern itself), a date-time or duration and a malformed
/// one. Inside must be answered with success or a documented 404, outside with a 400 problem+json.
/// </summary>
[Collection(DriftCollection.Name)]
public sealed class QuerySchemaDriftTests(ServerFixture fixture)
{
    private const string Entity = "drift-qa";
    private const string OtherEntity = "drift-qb";
    private const string Group = "drift-qg";

    /// <summary>A valid value per parameter name, the value every case of that parameter starts from.</summary>
    private static readonly Dictionary<string, string> KnownGood = new(StringComparer.Ordinal)
    {
        ["at"] = "2025-01-01T12:00:00Z",
        ["before"] = "2025-01-01T12:00:00Z",
        ["from"] = "2025-01-01T00:00:00Z",
        ["to"] = "2025-01-02T00:00:00Z",
        ["step"] = "PT15M",
        ["limit"] = "5",
        ["after"] = "drift",
        ["q"] = "drift",
        ["region"] = "US",
        ["types"] = "score,alert",
        ["entity"] = Entity,
        ["group"] = Group,
        ["lastEventId"] = "drift-1",
    };

    /// <summary>Known-good values that differ by operation.</summary>
    private static readonly Dictionary<(string Path, string Name), string> KnownGoodFor = new()
    {
        // A rule cursor: creation ticks, a dot, the rule's id.
        [("/api/alert-rules", "after")] = "638700000000000000.drift",
    };

    /// <summary>What an operation needs besides the parameter tried (each value valid; the tried one replaces its own).</summary>
    private static IReadOnlyDictionary<string, string> BaseQuery(string path) => path switch
    {
        "/api/links" => new Dictionary<string, string> { ["from"] = Entity, ["to"] = OtherEntity },
        // A bounded range, so that any valid step asks for fewer points than Impact:Query:MaxHistoryPoints.
        _ when path.EndsWith("/history", StringComparison.Ordinal) => new Dictionary<string, string>
        {
            ["from"] = KnownGood["from"], ["to"] = KnownGood["to"], ["step"] = "PT1H",
        },
        _ => new Dictionary<string, string>(),
    };

    /// <summary>Texts that probe a pattern from both sides; each is expected to be taken exactly when the pattern matches it.</summary>
    private static IEnumerable<string> PatternProbes(string good) =>
    [
        good, good.ToLowerInvariant(), good.ToUpperInvariant(), good[..1].ToLowerInvariant() + good[1..].ToUpperInvariant(),
        "-" + good, good + "!", good + " x", "A" + good, new string('a', 65), "zz", "ZZ", "global", "Global", "GLOBALS", "ıt",
        good + ",", "," + good, good.Replace(",", ", ", StringComparison.Ordinal), good + ",gossip", "gossip",
    ];

    /// <param name="Value">The value sent, or null to leave the parameter out.</param>
    private sealed record Case(string Parameter, string What, string? Value, bool Valid);

    [Fact]
    public async Task Every_documented_query_parameter_is_enforced_as_documented()
    {
        var document = JsonNode.Parse(await fixture.Http.GetStringAsync(OpenApiSetup.DocumentPath))!.AsObject();
        await fixture.Http.RegisterAsync(Entity);
        await fixture.Http.RegisterAsync(OtherEntity);
        using (var group = await fixture.Http.PutJsonAsync($"/api/groups/{Group}", $$"""{"name":"Drift","method":"max","members":["{{Entity}}"]}"""))
        {
            Assert.True(group.IsSuccessStatusCode, await group.Content.ReadAsStringAsync());
        }

        var failures = new List<string>();
        var parameters = 0;
        var total = 0;
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var query = operation?["parameters"]?.AsArray().Select(p => p!.AsObject()).Where(p => p["in"]!.GetValue<string>() == "query").ToList() ?? [];
                if (query.Count == 0)
                {
                    continue;
                }

                var url = path.Replace("{id}", path.StartsWith("/api/groups", StringComparison.Ordinal) ? Group : Entity, StringComparison.Ordinal);
                var documented = operation!["responses"]!.AsObject().Select(r => r.Key).ToHashSet();
                var baseQuery = BaseQuery(path);
                foreach (var required in query.Where(p => p["required"]?.GetValue<bool>() == true).Select(p => p["name"]!.GetValue<string>()))
                {
                    Assert.True(baseQuery.ContainsKey(required), $"{method.ToUpperInvariant()} {path}: {required} is required; give the base query a value");
                }

                foreach (var parameter in query)
                {
                    parameters++;
                    var name = parameter["name"]!.GetValue<string>();
                    var good = KnownGoodFor.GetValueOrDefault((path, name)) ?? baseQuery.GetValueOrDefault(name) ?? KnownGood.GetValueOrDefault(name);
                    foreach (var c in Cases(parameter, good))
                    {
                        var values = new Dictionary<string, string>(baseQuery);
                        if (c.Value is null)
                        {
                            values.Remove(c.Parameter);
                        }
                        else
                        {
                            values[c.Parameter] = c.Value;
                        }

                        var target = url + "?" + string.Join("&", values.Select(v => $"{v.Key}={Uri.EscapeDataString(v.Value)}"));
                        var (taken, answer) = await SendAsync(method, target, documented);
                        total++;
                        if (taken != c.Valid)
                        {
                            failures.Add($"{method.ToUpperInvariant()} {path} {c.Parameter}: {c.What}: documented as {(c.Valid ? "valid" : "invalid")}, " +
                                         $"but the endpoint {(taken ? "took it" : "refused it")}: {answer}");
                        }
                    }
                }
            }
        }

        Assert.True(parameters >= 30, $"only {parameters} query parameters documented");
        Assert.True(failures.Count == 0, $"{failures.Count} of {total} cases disagree with the document:\n" + string.Join("\n", failures));
    }

    /// <summary>The cases for one parameter: its known-good value, then each constraint of its schema from both sides.</summary>
    /// <param name="good">The parameter's known-good value for this operation, if it has one.</param>
    private static IEnumerable<Case> Cases(JsonObject parameter, string? good)
    {
        var name = parameter["name"]!.GetValue<string>();
        var schema = parameter["schema"]!.AsObject();
        var type = schema["type"]?.GetValue<string>();
        Case Make(string what, string? value, bool valid) => new(name, what, value, valid);

        if (parameter["required"]?.GetValue<bool>() == true)
        {
            yield return Make("left out (required)", null, false);
        }

        if (schema["enum"] is JsonArray values)
        {
            var names = values.Select(v => v!.GetValue<string>()).ToList();
            foreach (var value in names)
            {
                yield return Make($"'{value}' (enum)", value, true);
            }

            yield return Make("a value outside the enum", "not-" + names[0], false);
            yield break;
        }

        Assert.True(good is not null, $"no known-good value for the query parameter {name}; add one");
        yield return Make($"the known-good '{good}'", good, true);

        if (type == "integer")
        {
            yield return Make("not a number", "ten", false);
            yield return Make("not a whole number", "1.5", false);
            foreach (var (bound, inside, outside) in new[] { ("minimum", 0, -1), ("maximum", 0, 1) })
            {
                if (schema[bound]?.GetValue<long>() is { } limit)
                {
                    yield return Make($"{limit} ({bound})", (limit + inside).ToString(CultureInfo.InvariantCulture), true);
                    yield return Make($"{limit + outside} ({bound} {limit})", (limit + outside).ToString(CultureInfo.InvariantCulture), false);
                }
            }
        }

        if (schema["maxLength"]?.GetValue<int>() is { } max)
        {
            yield return Make($"{max} characters (maxLength)", Resize(good, max), true);
            yield return Make($"{max + 1} characters (maxLength {max})", Resize(good, max + 1), false);
        }

        if (schema["pattern"]?.GetValue<string>() is { } pattern)
        {
            var regex = new Regex(pattern, RegexOptions.CultureInvariant);
            Assert.True(regex.IsMatch(good), $"{name}: the known-good '{good}' does not match the documented pattern");
            var probes = PatternProbes(good).Distinct(StringComparer.Ordinal).ToList();
            Assert.True(probes.Any(p => !regex.IsMatch(p)), $"{name}: no probe breaks the pattern {pattern}");
            foreach (var probe in probes)
            {
                var valid = regex.IsMatch(probe) && (schema["maxLength"]?.GetValue<int>() is not { } longest || probe.Length <= longest);
                yield return Make($"'{probe}' (pattern)", probe, valid);
            }
        }

        switch (schema["format"]?.GetValue<string>())
        {
            case "date-time":
                yield return Make("a date-time with an offset", "2025-01-01T13:00:00+01:00", true);
                yield return Make("not a date-time", "2025-01-01 00:00", false);
                yield return Make("a date-time without an offset", "2025-01-01T12:00:00", false);
                break;
            case "duration":
                yield return Make("a duration in days", "P1D", true);
                yield return Make("not a duration", "ten minutes", false);
                break;
        }
    }

    private static string Resize(string value, int length) =>
        value.Length >= length ? value[..length] : value + new string('a', length - value.Length);

    /// <summary>
    /// Sends a request and says whether the endpoint took its query: a 2xx, or a documented 404 (an unknown link, say).
    /// Refused: a 400 problem+json. A stream's body is never read: its headers answer.
    /// </summary>
    private async Task<(bool Taken, string Answer)> SendAsync(string method, string url, IReadOnlySet<string> documented)
    {
        var attempts = 0;
        while (true)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url);
            using var response = await fixture.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && ++attempts <= 50)
            {
                // The fixture's rate limit: wait as told, then send the same request again.
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200));
                continue;
            }

            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return (true, $"{status}");
            }

            var text = await response.Content.ReadAsStringAsync();
            var answer = $"{status} {(text.Length > 300 ? text[..300] + "…" : text)}";
            if (status == 400)
            {
                Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{method} {url}: a 400 without problem+json: {answer}");
                return (false, answer);
            }

            Assert.True(status == 404 && documented.Contains("404"), $"{method} {url}: an answer that is neither taken nor refused: {answer}");
            return (true, answer);
        }
    }
}
