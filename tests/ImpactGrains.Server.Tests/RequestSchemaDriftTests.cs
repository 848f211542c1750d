using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Hosting;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// The request bodies' schemas in the served OpenAPI document against the endpoints that read those bodies by hand.
/// For every documented request body, a known-good body is changed one constraint at a time, just inside and just
/// outside each bound the document states (type, required, length, pattern, enum, format, numeric range, item count,
/// unknown properties and keys), and posted to the real endpoint: inside must be taken, outside must be a 400
/// problem+json (or, where the endpoint judges items one by one, a rejection of that item). A limit changed in the
/// validator and not in the document, or the other way round, fails here.
/// </summary>
[Collection(DriftCollection.Name)]
public sealed class RequestSchemaDriftTests(ServerFixture fixture)
{
    private const string PathId = "drift-path";

    /// <summary>One valid body per request schema, using every documented property, so every constraint is reached.</summary>
    private static readonly Dictionary<string, string> KnownGood = new(StringComparer.Ordinal)
    {
        ["EntityRequest"] = """{"name":"Drift Co","kind":"company","tags":["retail"]}""",
        ["BulkEntityRequest"] = """{"id":"drift-bulk","name":"Drift Co","kind":"company","tags":["retail"]}""",
        ["LinkRequest"] = """{"from":"drift-a","to":"drift-b","weight":0.5,"relation":"owner"}""",
        ["EventRequest"] =
            """{"id":"drift-event","entity":"drift-a","type":"statement","occurredAt":"2025-01-01T00:00:00Z","region":"US","confidence":0.5,"source":"wire",""" +
            // Fields for every type at once (a type ignores the others'), so that each type of the enum is valid as it is.
            """ "data":{"reports":10,"baselineReports":5,"durationMinutes":30,"claimed":true,"attribution":"a group","participants":10,"locations":2,""" +
            """ "percent":-5,"units":3,"period":"Q1","closePrice":10,"deltaUsd":-1000,"netWorthUsd":5000,"severity":"minor","description":"a recall",""" +
            """ "status":"resolved","baselineMean":1,"baselineStdDev":1,"zScore":0,"peakReports":12,"startedAt":"2025-01-01T00:00:00Z"}}""",
        ["GroupRequest"] = """{"name":"Drift group","method":"max","members":["drift-a",{"entity":"drift-b","weight":0.5}]}""",
        ["AlertRuleRequest"] = """{"target":"group:drift-g","metric":"score","threshold":50,"coolDown":"PT10M","webhook":"http://127.0.0.1:9/hook","secret":"drift-secret"}""",
        ["RescoreRequest"] = """{"version":"v1","at":"2025-01-01T00:00:00Z","limit":10}""",
        ["ModelRequest"] = ScoringModelJson.Write(ScoringModel.Default with { Version = "drift-model" }),
    };

    /// <param name="Given">Another value set first: the condition of an if/then rule the case is about.</param>
    private sealed record Case(string What, IReadOnlyList<object> Path, JsonNode? Value, bool Remove, bool Valid)
    {
        public (IReadOnlyList<object> Path, JsonNode Value)? Given { get; init; }
    }

    [Fact]
    public async Task Every_documented_request_constraint_is_the_one_the_endpoint_enforces()
    {
        var document = JsonNode.Parse(await fixture.Http.GetStringAsync(OpenApiSetup.DocumentPath))!.AsObject();
        await fixture.Http.RegisterAsync("drift-a");
        await fixture.Http.RegisterAsync("drift-b");

        var failures = new List<string>();
        var operations = 0;
        var total = 0;
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (operation?["requestBody"]?["content"]?["application/json"]?["schema"] is not JsonObject bodySchema)
                {
                    continue;
                }

                // A bulk body is an array of items, each judged on its own: one item is enough.
                var itemSchema = bodySchema["type"]?.GetValue<string>() == "array" ? bodySchema["items"]!.AsObject() : bodySchema;
                var name = SchemaName(itemSchema);
                Assert.True(KnownGood.TryGetValue(name, out var good), $"{method.ToUpperInvariant()} {path}: no known-good body for the schema {name}; add one");
                var example = JsonNode.Parse(good)!;
                var url = path.Replace("{id}", PathId, StringComparison.Ordinal);
                var where = $"{method.ToUpperInvariant()} {path}";
                var documented = operation["responses"]!.AsObject().Select(r => r.Key).ToHashSet();
                operations++;

                var cases = new List<Case> { new("the known-good body", [], null, Remove: false, Valid: true) };
                cases.AddRange(Walk(document, itemSchema, example, []));
                foreach (var c in cases)
                {
                    var body = Apply(example, c);
                    var json = (bodySchema == itemSchema ? body : new JsonArray(body)).ToJsonString();
                    var (taken, answer) = await SendAsync(method, url, json, documented);
                    total++;
                    if (taken != c.Valid)
                    {
                        failures.Add($"{where} {Describe(c)}: documented as {(c.Valid ? "valid" : "invalid")}, but the endpoint {(taken ? "took it" : "refused it")}: {answer}");
                    }
                }
            }
        }

        Assert.True(operations >= KnownGood.Count, $"only {operations} request bodies documented");
        Assert.True(total > 200, $"only {total} cases tried");
        Assert.True(failures.Count == 0, $"{failures.Count} of {total} cases disagree with the document:\n" + string.Join("\n", failures));
    }

    private static string Describe(Case c) => $"{string.Join(".", c.Path)}: {c.What}";

    /// <summary>The cases for one value against its schema: the value changed just inside and just outside each constraint.</summary>
    /// <param name="typeChecked">Whether the value's type was tried already (a branch of an anyOf, against all the branches).</param>
    private static IEnumerable<Case> Walk(JsonObject document, JsonObject schemaNode, JsonNode value, List<object> path, bool typeChecked = false)
    {
        var schema = Resolve(document, schemaNode);

        // An anyOf whose branches only require a field each: "at least one of these fields", not a choice of types.
        var atLeastOne = schema["anyOf"] is JsonArray any && any.All(b => b is JsonObject { Count: 1 } o && o["required"] is JsonArray { Count: 1 })
            ? any.Select(b => b!["required"]![0]!.GetValue<string>()).ToList()
            : null;
        var branches = atLeastOne is null ? (schema["anyOf"] ?? schema["oneOf"])?.AsArray().Select(b => Resolve(document, b!.AsObject())).ToList() : null;
        var types = branches is null ? TypesOf(schema) : branches.SelectMany(TypesOf).ToHashSet();
        if (path.Count > 0 && !typeChecked)
        {
            foreach (var wrong in WrongTypes(types))
            {
                yield return new Case($"a {wrong.GetValueKind()} instead of {string.Join("|", types)}", path, wrong, false, false);
            }

            if (types.Contains("null"))
            {
                yield return new Case("null", path, null, false, true);
            }
        }

        if (branches is not null)
        {
            var branch = branches.First(b => TypesOf(b).Contains(KindOf(value)) || (KindOf(value) == "integer" && TypesOf(b).Contains("number")));
            foreach (var c in Walk(document, branch, value, path, typeChecked: true))
            {
                yield return c;
            }

            yield break;
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                foreach (var c in StringCases(schema, value.GetValue<string>(), path))
                {
                    yield return c;
                }

                break;
            case JsonValueKind.Number:
                foreach (var c in NumberCases(schema, path))
                {
                    yield return c;
                }

                break;
            case JsonValueKind.Array:
                var array = value.AsArray();
                var first = array[0]!;
                if (schema["minItems"] is { } minItems && minItems.GetValue<int>() > 0)
                {
                    var n = minItems.GetValue<int>();
                    yield return new Case($"{n} items (minItems)", path, Items(first, n), false, true);
                    yield return new Case($"{n - 1} items (minItems {n})", path, Items(first, n - 1), false, false);
                }

                if (schema["maxItems"] is { } maxItems)
                {
                    var n = maxItems.GetValue<int>();
                    yield return new Case($"{n} items (maxItems)", path, Items(first, n), false, true);
                    yield return new Case($"{n + 1} items (maxItems {n})", path, Items(first, n + 1), false, false);
                }

                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var c in Walk(document, schema["items"]!.AsObject(), array[i]!, [.. path, i]))
                    {
                        yield return c;
                    }
                }

                break;
            case JsonValueKind.Object:
                var obj = value.AsObject();
                if (atLeastOne is not null)
                {
                    JsonObject Without(IEnumerable<string> names)
                    {
                        var copy = obj.DeepClone().AsObject();
                        foreach (var name in names)
                        {
                            copy.Remove(name);
                        }

                        return copy;
                    }

                    yield return new Case($"none of {string.Join(", ", atLeastOne)} (anyOf required)", path, Without(atLeastOne), false, false);
                    foreach (var kept in atLeastOne)
                    {
                        yield return new Case($"only {kept} of {string.Join(", ", atLeastOne)} (anyOf required)", path, Without(atLeastOne.Where(f => f != kept)), false, true);
                    }
                }

                foreach (var required in schema["required"]?.AsArray().Select(r => r!.GetValue<string>()) ?? [])
                {
                    yield return new Case("left out (required)", [.. path, required], null, true, false);
                }

                foreach (var (name, propertySchema) in schema["properties"]?.AsObject() ?? new JsonObject())
                {
                    Assert.True(obj.ContainsKey(name), $"the known-good body at '{string.Join(".", path)}' leaves out the documented property {name}; give it one");
                    foreach (var c in Walk(document, propertySchema!.AsObject(), obj[name]!, [.. path, name]))
                    {
                        yield return c;
                    }
                }

                // if/then rules (a field's range that depends on another field): the bounds of "then" under each value of "if".
                foreach (var rule in schema["allOf"]?.AsArray().Select(r => r!.AsObject()) ?? [])
                {
                    var (field, condition) = rule["if"]!["properties"]!.AsObject().Single();
                    foreach (var given in condition!["enum"]!.AsArray())
                    {
                        foreach (var (name, bounds) in rule["then"]!["properties"]!.AsObject())
                        {
                            foreach (var c in Walk(document, bounds!.AsObject(), obj[name]!, [.. path, name]))
                            {
                                yield return c with { What = $"{c.What} when {field} is {given}", Given = ([.. path, field], given!.DeepClone()) };
                            }
                        }
                    }
                }

                switch (schema["additionalProperties"])
                {
                    case JsonObject map:
                        foreach (var (key, entry) in obj)
                        {
                            foreach (var c in Walk(document, map, entry!, [.. path, key]))
                            {
                                yield return c;
                            }
                        }

                        if (schema["propertyNames"]?["enum"] is JsonArray keys)
                        {
                            var sample = obj.First().Value!;
                            foreach (var key in keys.Select(k => k!.GetValue<string>()))
                            {
                                yield return new Case($"the key {key} (propertyNames)", [.. path, key], sample.DeepClone(), false, true);
                            }

                            yield return new Case("a key outside propertyNames", [.. path, "not-a-key"], sample.DeepClone(), false, false);
                        }

                        break;
                    case JsonValue closed when closed.GetValue<bool>() == false:
                        yield return new Case("an unknown property (additionalProperties: false)", [.. path, "unexpectedField"], JsonValue.Create(1), false, false);
                        break;
                    default:
                        yield return new Case("an unknown property (additionalProperties allowed)", [.. path, "unexpectedField"], JsonValue.Create(1), false, true);
                        break;
                }

                break;
        }
    }

    private static IEnumerable<Case> StringCases(JsonObject schema, string value, List<object> path)
    {
        var pattern = schema["pattern"]?.GetValue<string>() is { } p ? new Regex(p, RegexOptions.CultureInvariant) : null;
        var min = schema["minLength"]?.GetValue<int>() ?? 0;
        var max = schema["maxLength"]?.GetValue<int>();
        IEnumerable<Case> Inside(string what, string text)
        {
            Assert.True(pattern?.IsMatch(text) != false, $"'{string.Join(".", path)}': the known-good value cannot reach {what} within the pattern; change it");
            yield return new Case(what, path, JsonValue.Create(text), false, true);
        }

        if (schema["enum"] is JsonArray values)
        {
            var names = values.Select(v => v!.GetValue<string>()).ToList();
            foreach (var name in names)
            {
                yield return new Case($"'{name}' (enum)", path, JsonValue.Create(name), false, true);
            }

            yield return new Case("a value outside the enum", path, JsonValue.Create("not-" + names[0]), false, false);
        }

        if (schema["minLength"] is not null)
        {
            foreach (var c in Inside($"{min} characters (minLength)", Resize(value, min)))
            {
                yield return c;
            }

            if (min > 0)
            {
                yield return new Case($"{min - 1} characters (minLength {min})", path, JsonValue.Create(Resize(value, min - 1)), false, false);
            }
        }

        if (max is { } m)
        {
            foreach (var c in Inside($"{m} characters (maxLength)", Resize(value, m)))
            {
                yield return c;
            }

            yield return new Case($"{m + 1} characters (maxLength {m})", path, JsonValue.Create(Resize(value, m + 1)), false, false);
        }

        if (pattern is not null)
        {
            // The first text that breaks the pattern while keeping to the lengths, so only the pattern is at fault.
            var breaking = new[] { "-", "A", "\u0001", "\u007F", " ", "!" }
                .SelectMany(seed => new[] { seed + "a", seed + value, value[..1] + seed + value[1..] })
                .Select(t => t.Length < min ? Resize(t, min) : max is { } longest && t.Length > longest ? t[..longest] : t)
                .FirstOrDefault(t => !pattern.IsMatch(t));
            Assert.True(breaking is not null, $"'{string.Join(".", path)}': no text breaks the pattern {pattern}");
            yield return new Case($"'{Escape(breaking)}' (pattern {pattern})", path, JsonValue.Create(breaking), false, false);

            // The value in lower case, judged by the pattern itself: a region, say, is documented and taken in any case.
            var lower = value.ToLowerInvariant();
            if (lower != value)
            {
                yield return new Case($"'{lower}' (lower case, pattern {pattern})", path, JsonValue.Create(lower), false, pattern.IsMatch(lower));
            }

            if (pattern.ToString() == Regions.CaseInsensitivePattern)
            {
                // Two letters that are no assigned code, in either case: the list, not the shape, decides.
                yield return new Case("'zz' (no region)", path, JsonValue.Create("zz"), false, false);
                yield return new Case("'ıt' (a non-ASCII letter whose upper case is I)", path, JsonValue.Create("ıt"), false, false);
                yield return new Case("'gLoBaL' (a region in mixed case)", path, JsonValue.Create("gLoBaL"), false, true);
            }
        }

        switch (schema["format"]?.GetValue<string>())
        {
            case "date-time":
                yield return new Case("not a date-time", path, JsonValue.Create("2025-01-01 00:00"), false, false);
                break;
            case "duration":
                yield return new Case("not a duration", path, JsonValue.Create("ten minutes"), false, false);
                break;
            case "uri":
                yield return new Case("not a URI", path, JsonValue.Create("http://"), false, false);
                break;
        }
    }

    private static IEnumerable<Case> NumberCases(JsonObject schema, List<object> path)
    {
        var integer = TypesOf(schema).Contains("integer");
        double Step(double bound) => integer ? 1 : 1e-6 * Math.Max(1, Math.Abs(bound));
        if (Bound(schema, "minimum") is { } minimum)
        {
            yield return new Case($"{minimum} (minimum)", path, Number(minimum), false, true);
            yield return new Case($"{minimum - Step(minimum)} (minimum {minimum})", path, Number(minimum - Step(minimum)), false, false);
        }

        if (Bound(schema, "exclusiveMinimum") is { } low)
        {
            yield return new Case($"{low + Step(low)} (exclusiveMinimum {low})", path, Number(low + Step(low)), false, true);
            yield return new Case($"{low} (exclusiveMinimum)", path, Number(low), false, false);
        }

        if (Bound(schema, "maximum") is { } maximum)
        {
            yield return new Case($"{maximum} (maximum)", path, Number(maximum), false, true);
            yield return new Case($"{maximum + Step(maximum)} (maximum {maximum})", path, Number(maximum + Step(maximum)), false, false);
        }

        if (Bound(schema, "exclusiveMaximum") is { } high)
        {
            yield return new Case($"{high - Step(high)} (exclusiveMaximum {high})", path, Number(high - Step(high)), false, true);
            yield return new Case($"{high} (exclusiveMaximum)", path, Number(high), false, false);
        }
    }

    private static double? Bound(JsonObject schema, string name) => schema[name]?.GetValue<double>();

    private static JsonNode Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);

    private static string Resize(string value, int length) =>
        value.Length >= length ? value[..length] : value + new string('a', length - value.Length);

    /// <summary>n items made from the first: a text gets a number appended to each copy, so that copies differ.</summary>
    private static JsonArray Items(JsonNode first, int n) => new(Enumerable.Range(0, n)
        .Select(i => first.GetValueKind() == JsonValueKind.String && i > 0 ? JsonValue.Create($"{first.GetValue<string>()}{i}") : first.DeepClone())
        .ToArray<JsonNode?>());

    /// <summary>Values of each JSON type the schema's types leave out; never null, which is a type of its own.</summary>
    private static IEnumerable<JsonNode> WrongTypes(IReadOnlySet<string> types)
    {
        if (types.Count == 0)
        {
            yield break;
        }

        if (!types.Contains("string")) yield return JsonValue.Create("text")!;
        if (!types.Contains("number")) yield return JsonValue.Create(1.5);
        if (!types.Contains("boolean")) yield return JsonValue.Create(true);
        if (!types.Contains("array")) yield return new JsonArray();
        if (!types.Contains("object")) yield return new JsonObject();
    }

    private static HashSet<string> TypesOf(JsonObject schema) => schema["type"] switch
    {
        JsonArray many => many.Select(t => t!.GetValue<string>()).ToHashSet(),
        JsonValue one => [one.GetValue<string>()],
        _ => [],
    };

    private static string KindOf(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.Array => "array",
        JsonValueKind.Object => "object",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static JsonObject Resolve(JsonObject document, JsonObject schema) =>
        schema["$ref"]?.GetValue<string>() is { } reference
            ? document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!.AsObject()
            : schema;

    private static string SchemaName(JsonObject schema) =>
        schema["$ref"]?.GetValue<string>() is { } reference ? reference["#/components/schemas/".Length..] : "(inline)";

    private static JsonNode Apply(JsonNode example, Case c)
    {
        var body = example.DeepClone();
        if (c.Given is { } given)
        {
            Set(body, given.Path, given.Value, remove: false);
        }

        if (c.Path.Count > 0)
        {
            Set(body, c.Path, c.Value, c.Remove);
        }

        return body;
    }

    private static void Set(JsonNode body, IReadOnlyList<object> path, JsonNode? value, bool remove)
    {
        var parent = path.SkipLast(1).Aggregate(body, (node, step) => step is int index ? node[index]! : node[(string)step]!);
        switch (path[^1])
        {
            case int index:
                parent.AsArray()[index] = value?.DeepClone();
                break;
            case string name when remove:
                parent.AsObject().Remove(name);
                break;
            case string name:
                parent[name] = value?.DeepClone();
                break;
        }
    }

    /// <summary>
    /// Posts a body and says whether the endpoint took it. Taken: a 2xx without a rejected item, or an answer the
    /// operation documents that is not about the body's shape (404 an unknown entity or version, 409 a version
    /// registered with other parameters; for an item judged on its own, its entity unknown). Refused: a 400
    /// problem+json, or the item listed as rejected.
    /// </summary>
    private async Task<(bool Taken, string Answer)> SendAsync(string method, string url, string json, IReadOnlySet<string> documented)
    {
        HttpResponseMessage response;
        var attempts = 0;
        while (true)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url)
            {
                Content = new StringContent(json, Encoding.UTF8, "application/json"),
            };
            response = await fixture.Http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.TooManyRequests || ++attempts > 50)
            {
                break;
            }

            // The fixture's write limit: wait as told, then send the same body again.
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200));
            response.Dispose();
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            var answer = $"{status} {(text.Length > 300 ? text[..300] + "…" : text)}";
            if (response.IsSuccessStatusCode)
            {
                var rejected = JsonNode.Parse(text) is JsonObject result && result["rejected"] is JsonArray list ? list : [];
                var shape = rejected.Where(r => r?["error"]?.GetValue<string>() is not { } error || !error.Contains("unknown entity", StringComparison.Ordinal));
                return (!shape.Any(), answer);
            }

            if (status == 400)
            {
                Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{method} {url}: a 400 without problem+json: {answer}");
                return (false, answer);
            }

            Assert.True(status is 404 or 409 && documented.Contains(status.ToString(CultureInfo.InvariantCulture)),
                $"{method} {url}: an answer that is neither taken nor refused: {answer}");
            return (true, answer);
        }
    }

    private static string Escape(string text) => string.Concat(text.Select(ch => char.IsControl(ch) ? $"\\u{(int)ch:X4}" : ch.ToString()));
}
