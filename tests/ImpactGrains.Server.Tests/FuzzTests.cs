using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ImpactGrains.Alerting;
using Xunit.Abstractions;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// Hostile input: at least 10,000 generated requests (a small generator on seeded <see cref="Random"/>s, so a failure
/// can be replayed) against the real server process, four in flight. None may answer 5xx, take longer than
/// <see cref="SlowestAllowed"/> or bring the server down; every refusal must be problem+json; and data accepted before
/// the run must come out of it unchanged, byte for byte: the generator sends valid writes only for fuzz-only entities
/// and groups, and anything aimed at the protected ones carries a defect that must get it refused.
/// Set IMPACT_FUZZ_SEED and IMPACT_FUZZ_REQUESTS to run other or more inputs.
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DefaultRequests = 10_000;
    private const int InFlight = 4;
    private static readonly TimeSpan SlowestAllowed = TimeSpan.FromSeconds(20);

    /// <summary>The fixed past instant the protected data is judged at.</summary>
    private const string At = "2024-06-01T00:00:00Z";

    private ServerProcess server = null!;

    public async Task InitializeAsync() => server = await ServerProcess.StartAsync(demo: false, extraArgs:
    [
        "--Impact:Limits:Enabled=false", // the requests are meant to reach the parsers, not the rate limiter
        "--Impact:Ingestion:MaxBodyBytes=262144", "--Impact:Ingestion:MaxEventsPerRequest=200",
    ]);

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        server.DeleteData();
    }

    private static readonly string[] ProtectedUrls =
    [
        "/api/entities/fz-keep-a", "/api/entities/fz-keep-b", "/api/groups/fz-keep-g",
        $"/api/entities/fz-keep-a/impact?at={At}", $"/api/entities/fz-keep-b/impact?at={At}",
        $"/api/entities/fz-keep-a/explain?at={At}&limit=1000", $"/api/entities/fz-keep-b/explain?at={At}&limit=1000",
        $"/api/entities/fz-keep-a/history?from=2024-04-25T00:00:00Z&to={At}&step=PT6H",
        "/api/entities/fz-keep-a/events?limit=1000", "/api/entities/fz-keep-b/events?limit=1000",
        $"/api/groups/fz-keep-g/impact?at={At}", $"/api/groups/fz-keep-g/history?from=2024-05-01T00:00:00Z&to={At}&step=P1D",
    ];

    [Fact]
    public async Task Ten_thousand_hostile_requests_give_no_5xx_no_stall_only_problem_refusals_and_change_no_accepted_data()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("IMPACT_FUZZ_SEED"), out var s) ? s : 20261127;
        var count = int.TryParse(Environment.GetEnvironmentVariable("IMPACT_FUZZ_REQUESTS"), out var n) ? n : DefaultRequests;
        var http = server.Http;
        await SeedAsync(http);
        var before = await SnapshotAsync(http);

        var generator = new FuzzGenerator(seed);
        var requests = Enumerable.Range(0, count).Select(generator.Next).ToList();
        if (int.TryParse(Environment.GetEnvironmentVariable("IMPACT_FUZZ_SHOW"), out var show))
        {
            var shown = requests[show];
            output.WriteLine($"#{show}: {shown.Method} {shown.Path} [{shown.ContentType}] {shown.BodyText}");
        }
        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var slowest = TimeSpan.Zero;
        var resent = 0;
        var clock = Stopwatch.StartNew();
        using var client = new HttpClient { BaseAddress = http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = InFlight }, async (spec, _) =>
        {
            var started = Stopwatch.GetTimestamp();
            string? problem;
            int status;
            try
            {
                (status, problem) = await SendAsync(client, spec);
            }
            catch (HttpRequestException first)
            {
                // A pooled connection that the server closed just as the client picked it (after a refusal that left a
                // body unread, Kestrel closes the connection) fails without an answer; the request itself is sent again.
                try
                {
                    (status, problem) = await SendAsync(client, spec);
                    Interlocked.Increment(ref resent);
                    output.WriteLine($"#{spec.Index} sent again after: {first.Message} ({first.InnerException?.Message})");
                }
                catch (Exception ex)
                {
                    (status, problem) = (0, $"no answer twice: {first.Message} ({first.InnerException?.Message}); {ex.GetType().Name}: {ex.Message} ({ex.InnerException?.Message})");
                }
            }
            catch (Exception ex)
            {
                (status, problem) = (0, $"no answer: {ex.GetType().Name}: {ex.Message} ({ex.InnerException?.Message})");
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            statuses.AddOrUpdate(status, 1, (_, c) => c + 1);
            lock (failures)
            {
                slowest = elapsed > slowest ? elapsed : slowest;
            }

            if (elapsed > SlowestAllowed)
            {
                problem ??= $"took {elapsed.TotalSeconds:0.0} s";
            }

            if (problem is not null)
            {
                failures.Enqueue($"#{spec.Index} {spec.Method} {Shorten(spec.Path, 300)} [{spec.ContentType ?? "no content type"}; accept {spec.Accept ?? "none"}] " +
                                 $"body {Shorten(spec.BodyText, 300)}\n    → {problem}");
            }
        });

        output.WriteLine($"seed {seed}: {count} requests in {clock.Elapsed.TotalSeconds:0.0} s, slowest {slowest.TotalMilliseconds:0} ms, {resent} sent again; " +
                         string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}")));
        if (!failures.IsEmpty)
        {
            var log = server.Output;
            output.WriteLine(log.Length <= 30_000 ? log : log[^30_000..]);
        }

        Assert.True(failures.IsEmpty, $"seed {seed}: {failures.Count} bad answers, the first:\n{string.Join("\n", failures.Take(15))}");
        Assert.False(server.HasExited, $"the server exited:\n{server.Output}");
        Assert.DoesNotContain(statuses.Keys, k => k == 429);

        // Still alive and answering, reads and writes alike.
        using (var live = await http.GetAsync("/health/live"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        var write = await (await http.PostJsonAsync("/api/events", Http.Outage("fz-after-1", "fz-play-1", "2024-05-30T00:00:00Z", 1234))).JsonAsync();
        Assert.Equal(1, write.GetProperty("accepted").GetInt32() + write.GetProperty("duplicates").GetInt32());

        // And what was accepted before is exactly as it was.
        var after = await SnapshotAsync(http);
        foreach (var url in ProtectedUrls)
        {
            Assert.True(before[url] == after[url], $"{url} changed:\nbefore {before[url]}\nafter  {after[url]}");
        }
    }

    private static async Task<(int Status, string? Problem)> SendAsync(HttpClient client, FuzzRequest spec)
    {
        var uri = new Uri(client.BaseAddress + spec.Path.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(spec.Method), uri);
        if (spec.Body is not null)
        {
            request.Content = new ByteArrayContent(spec.Body);
            request.Content.Headers.ContentType = null;
            if (spec.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", spec.ContentType);
            }
        }

        if (spec.Accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", spec.Accept);
        }

        var stream = spec.Path.StartsWith("/api/stream", StringComparison.OrdinalIgnoreCase);
        using var response = await client.SendAsync(request, stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead);
        var status = (int)response.StatusCode;
        if (status >= 500)
        {
            return (status, $"{status}: {Shorten(await response.Content.ReadAsStringAsync(), 400)}");
        }

        if (status < 400)
        {
            return (status, null);
        }

        var text = await response.Content.ReadAsStringAsync();
        if (IsKestrelRefusal(response, text))
        {
            return (KestrelRefusal + status, null);
        }
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return (status, $"{status} with content type '{response.Content.Headers.ContentType}': {Shorten(text, 200)}");
        }

        try
        {
            using var problem = JsonDocument.Parse(text);
            return problem.RootElement.TryGetProperty("status", out var s) && s.GetInt32() == status && problem.RootElement.TryGetProperty("title", out _)
                ? (status, null)
                : (status, $"{status} with a problem body without its status and title: {Shorten(text, 200)}");
        }
        catch (JsonException)
        {
            return (status, $"{status} with a problem body that is not JSON: {Shorten(text, 200)}");
        }
    }

    /// <summary>Reported apart from the application's answers, in the output: 1400 is Kestrel's own 400.</summary>
    private const int KestrelRefusal = 1000;

    /// <summary>
    /// Kestrel refuses some requests itself, before any application code runs, with a bare status and no body: a NUL
    /// in the path (400), a request line over 8 KiB (414), headers over 32 KiB (431). Those never reach the application,
    /// so they carry neither problem+json nor its security headers; every other refusal must be problem+json.
    /// </summary>
    private static bool IsKestrelRefusal(HttpResponseMessage response, string body) =>
        (int)response.StatusCode is 400 or 414 or 431 && body.Length == 0 && !response.Headers.Contains("X-Content-Type-Options");

    /// <summary>Protected entities, a link and a group with events at fixed past instants; fuzz-only entities beside them.</summary>
    private static async Task SeedAsync(HttpClient http)
    {
        await http.RegisterAsync("fz-keep-a", "company", "Keep A");
        await http.RegisterAsync("fz-keep-b", "person", "Keep B");
        foreach (var (id, kind) in FuzzGenerator.PlayEntities.Zip(new[] { "company", "person", "organization", "product" }))
        {
            await http.RegisterAsync(id, kind);
        }

        await (await http.PutJsonAsync("/api/links", """{"from":"fz-keep-b","to":"fz-keep-a","weight":0.5,"relation":"owner"}""")).JsonAsync(HttpStatusCode.Created);
        await (await http.PutJsonAsync("/api/groups/fz-keep-g", """{"name":"Keep","method":"noisy-or","members":["fz-keep-a",{"entity":"fz-keep-b","weight":0.5}]}"""))
            .JsonAsync(HttpStatusCode.Created);
        var events = new List<string>();
        for (var day = 1; day <= 20; day++)
        {
            var at = $"2024-05-{day:00}T{day % 24:00}:00:00Z";
            events.Add(Http.Outage($"fz-keep-a-{day}", "fz-keep-a", at, 1000 + day * 37));
            events.Add($$$"""{"id":"fz-keep-b-{{{day}}}","entity":"fz-keep-b","type":"statement","occurredAt":"{{{at}}}","region":"DE","confidence":0.8,"data":{"severity":"major"}}""");
            events.Add(Http.Outage($"fz-play-seed-{day}", "fz-play-1", at, 800 + day));
        }

        var posted = await (await http.PostJsonAsync("/api/events", "[" + string.Join(",", events) + "]")).JsonAsync();
        Assert.Equal(60, posted.GetProperty("accepted").GetInt32());
    }

    private static async Task<Dictionary<string, string>> SnapshotAsync(HttpClient http)
    {
        var snapshot = new Dictionary<string, string>();
        foreach (var url in ProtectedUrls)
        {
            using var response = await http.GetAsync(url);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {text}");
            snapshot[url] = text;
        }

        return snapshot;
    }

    private static string Shorten(string? text, int max) =>
        text is null ? "(none)" : (text.Length <= max ? text : text[..max] + $"… ({text.Length} chars)").ReplaceLineEndings("⏎");
}

[CollectionDefinition(Name)]
public sealed class FuzzCollection
{
    public const string Name = "fuzz";
}

/// <summary>One generated request. <see cref="Path"/> includes the query and is sent as it is (already escaped).</summary>
public sealed record FuzzRequest(int Index, string Method, string Path, byte[]? Body, string? ContentType, string? Accept)
{
    public string? BodyText => Body is null ? null : Encoding.UTF8.GetString(Body);
}

/// <summary>
/// The generator: each request from its own <see cref="Random"/>, seeded from the run's seed and the request's index,
/// so request N is the same whatever else changes. Valid writes go only to fuzz-only entities and groups
/// (<see cref="PlayEntities"/>, fz-new-*, fz-grp-*); whatever names a protected one (fz-keep-*) is made invalid last.
/// </summary>
public sealed class FuzzGenerator(int seed)
{
    public static readonly string[] PlayEntities = ["fz-play-1", "fz-play-2", "fz-play-3", "fz-play-4"];
    private static readonly string[] KeepEntities = ["fz-keep-a", "fz-keep-b"];
    private static readonly string[] EventTypes =
        ["outage", "cyberattack", "protest", "sales-change", "stock-change", "net-worth-change", "product-failure", "statement", "incident"];

    private Random random = new(0);

    public FuzzRequest Next(int index)
    {
        random = new Random(unchecked(seed * 1_000_003 + index)); // not HashCode.Combine, which differs per process
        var roll = random.Next(100);
        return roll switch
        {
            < 28 => Events(index),
            < 40 => Ndjson(index),
            < 48 => RawBody(index),
            < 57 => Entity(index),
            < 62 => Link(index),
            < 67 => Group(index),
            < 72 => AlertRule(index),
            < 74 => Admin(index),
            < 95 => Get(index),
            _ => Odd(index),
        };
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private bool Chance(int percent) => random.Next(100) < percent;

    // ---- values -------------------------------------------------------------------------------------------------

    private static readonly string[] Instants =
    [
        "2024-05-03T10:00:00Z", "2024-05-03T10:00:00.1234567+02:00", "2024-05-29t23:59:59z", "2024-02-29T12:00:00-11:30",
        "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59-14:00",
        "1899-12-31T23:59:59Z", "1900-01-01T00:00:00+00:01", "1900-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "2024-02-30T00:00:00Z",
        "2024-05-01T24:00:00Z", "2024-05-01T23:59:60Z", "2024-05-01T10:00:00+99:99", "2024-05-01T10:00:00.12345678Z", "2024-05-01 10:00:00",
        "2024-05-01T10:00:00", "2024-13-01T00:00:00Z", "-2024-05-01T00:00:00Z", "+12024-05-01T00:00:00Z", "20240501T100000Z", "",
        "now", "yesterday", "٢٠٢٤-٠٥-٠١T00:00:00Z", "2024-05-01T10:00:00Z\u0000", "2024-05-01T10:00:00Z ", "2024-05-01T10:00:00Z\n",
        "0001-01-01T23:59:59Z", "0001-01-07T00:00:00Z", "0001-01-01T00:00:00.0000001Z", "9999-12-31T00:00:00+00:00", "2024-05-0١T00:00:00Z",
    ];

    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "0.5", "1e3", "1E+2", "-1e-7", "1e308", "1.7976931348623157e308", "1e309", "-1e400", "4.9e-324", "1e-400",
        "123456789012345678901234567890", "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "2147483648", "1000000000000", "1000000000001", "0.1e1", "100.0", "99.99999999999999999", "1" + new string('0', 400), "١٠", "５",
        "0." + new string('0', 400) + "1",
    ];

    private static readonly string[] InvalidNumberLiterals = ["NaN", "Infinity", "-Infinity", "+1", "01", ".5", "5.", "0x10", "1e", "--1", "1_000", "∞"];

    private static readonly string[] Durations =
    [
        "PT1H", "P1D", "PT15M", "P1W", "P1DT12H", "PT1S", "PT0.5S", "PT0S", "P0D", "P", "PT", "P1M", "P1Y", "PT-1H", "-PT1H", "P3650D",
        "P3651D", "P521W", "PT87600H", "PT1.0000001S", "PT" + new string('9', 40) + "S", "P" + new string('9', 400) + "D", "pt1h", "1h", "PT1H ",
        "PT1.5H", "P1.5D", "P1DT", "PT1H1H", "P١D", "PT５M", "PT1H\n", "P1D\u0000",
    ];

    private string LongString(int length) => new((char)('a' + random.Next(26)), length);

    /// <summary>A string literal, JSON-escaped or deliberately broken.</summary>
    private string WildString() => random.Next(16) switch
    {
        0 => Quote(LongString(Pick(new[] { 201, 501, 2001, 70_000, 300_000 }))),
        1 => "\"control\\u0000char\"",
        2 => "\"tab\\there\"",
        3 => "\"raw\u0001control\"", // a raw control character: not valid JSON
        4 => "\"lone \\ud800 surrogate\"",
        5 => "\"\\uDC00\\uD800 reversed\"",
        6 => "\"unterminated",
        7 => "\"bad \\x escape\"",
        8 => "\"ｆｕｌｌｗｉｄｔｈ\"",
        9 => "\"fz‐keep‐a\"", // U+2010 hyphens
        10 => "\"\\u202Eright-to-left\"",
        11 => "\"<script>alert(1)</script>\"",
        12 => "''",
        13 => "\"\"",
        14 => "\"" + string.Concat(Enumerable.Repeat("\\\\", 1000)) + "\"",
        _ => Quote(Pick(Instants)),
    };

    /// <summary>Any value: wrong types, odd numbers and literals, deep nesting, odd strings.</summary>
    private string WildValue() => random.Next(12) switch
    {
        0 => Pick(new[] { "true", "false", "null", "[]", "{}", "[null]", "{\"a\":1}" }),
        1 or 2 => Pick(Numbers),
        3 => Pick(InvalidNumberLiterals),
        4 => Deep(Pick(new[] { 10, 63, 65, 200, 5000 })),
        5 or 6 or 7 => WildString(),
        8 => "\"" + Pick(Durations) + "\"",
        9 => Quote(Pick(EventTypes).ToUpperInvariant()),
        10 => "tru",
        _ => "[" + string.Join(",", Enumerable.Range(0, random.Next(1, 50)).Select(_ => Pick(Numbers))) + "]",
    };

    private string Deep(int depth) => Chance(50)
        ? new string('[', depth) + "1" + new string(']', depth)
        : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    /// <summary>An entity id for a body: mostly fuzz-only ones, sometimes protected ones (then the caller poisons), or invalid.</summary>
    private string BodyEntity() => random.Next(10) switch
    {
        < 5 => Pick(PlayEntities),
        5 or 6 => Pick(KeepEntities),
        7 => "fz-nobody-" + random.Next(1000),
        8 => Pick(new[] { "FZ-PLAY-1", "fz_play_1", "-fz", "fz-play-1 ", " fz-play-1", "fz-play-1\u0000", "fz-plаy-1", "../fz-keep-a", "", new string('a', 65) }),
        _ => "fz-new-" + random.Next(100),
    };

    // ---- JSON objects as ordered members, so keys can repeat ---------------------------------------------------------

    private sealed class Obj
    {
        public List<(string Key, string Value)> Members { get; } = [];

        public Obj Add(string key, string value)
        {
            Members.Add((key, value));
            return this;
        }

        public Obj Set(string key, string value)
        {
            Members.RemoveAll(m => m.Key == key);
            return Add(key, value);
        }

        public bool Mentions(string text) => Members.Any(m => m.Key.Contains(text, StringComparison.Ordinal) || m.Value.Contains(text, StringComparison.Ordinal));

        public override string ToString() => "{" + string.Join(",", Members.Select(m => Quote(m.Key) + ":" + m.Value)) + "}";
    }

    /// <summary>Up to three mutations of an object's members: a wild value, a removal, a repeat, an unknown or renamed key.</summary>
    private void Mutate(Obj obj, int max = 3)
    {
        for (var i = random.Next(max + 1); i > 0 && obj.Members.Count > 0; i--)
        {
            var at = random.Next(obj.Members.Count);
            var (key, value) = obj.Members[at];
            switch (random.Next(7))
            {
                case 0 or 1:
                    obj.Members[at] = (key, WildValue());
                    break;
                case 2:
                    obj.Members.RemoveAt(at);
                    break;
                case 3:
                    obj.Members.Insert(random.Next(obj.Members.Count + 1), (key, Chance(50) ? value : WildValue()));
                    break;
                case 4:
                    obj.Members.Add((Pick(new[] { "extra", "__proto__", "constructor", "$type", "", "\u0000", LongString(300) }), WildValue()));
                    break;
                case 5:
                    obj.Members[at] = (Pick(new[] { key.ToUpperInvariant(), key + " ", "\u200b" + key, key + "\u0000" }), value);
                    break;
                default:
                    obj.Members[at] = (key, Chance(50) ? Quote(Pick(Instants)) : Pick(Numbers));
                    break;
            }
        }
    }

    private string EventData(string type)
    {
        var data = new Obj();
        switch (type)
        {
            case "outage":
                data.Add("reports", random.Next(0, 20000).ToString(CultureInfo.InvariantCulture)).Add("baselineReports", "500");
                if (Chance(30)) data.Add("durationMinutes", "45.5");
                break;
            case "cyberattack":
                data.Add("claimed", Chance(50) ? "true" : "false").Add("attribution", "\"group-x\"");
                break;
            case "protest":
                data.Add("participants", "1200").Add("locations", "3");
                break;
            case "sales-change":
                data.Add("percent", "-12.5").Add("units", "100").Add("period", "\"2024-05\"");
                break;
            case "stock-change":
                data.Add("percent", "-4").Add("closePrice", "81.2");
                break;
            case "net-worth-change":
                data.Add("deltaUsd", "-1e9").Add("netWorthUsd", "2e11");
                break;
            case "incident":
                data.Add("status", "\"detected\"").Add("reports", "6000").Add("baselineMean", "99.6").Add("baselineStdDev", "9.1")
                    .Add("zScore", "648.4").Add("startedAt", Quote(Pick(Instants))).Add("peakReports", "6000");
                break;
            default:
                data.Add("severity", Quote(Pick(new[] { "minor", "major", "critical" }))).Add("description", "\"it broke\"");
                break;
        }

        if (Chance(40))
        {
            Mutate(data);
        }

        return data.ToString();
    }

    private Obj Event(int index)
    {
        var type = Chance(90) ? Pick(EventTypes) : Pick(new[] { "recall", "OUTAGE", "", "outage\u0000" });
        var e = new Obj()
            .Add("id", Quote($"fz-{seed}-{index}-{random.Next(1000)}"))
            .Add("entity", Quote(BodyEntity()))
            .Add("type", Quote(type))
            .Add("occurredAt", Quote(Chance(70) ? $"2024-05-{random.Next(1, 31):00}T{random.Next(24):00}:{random.Next(60):00}:00Z" : Pick(Instants)));
        if (Chance(50)) e.Add("region", Quote(Pick(new[] { "US", "de", "GLOBAL", "XX", "EU", "U", "USA", "", "ｕｓ" })));
        if (Chance(40)) e.Add("confidence", Pick(new[] { "0", "0.7", "1", "1.0000001", "-0.1", "1e-300" }));
        if (Chance(30)) e.Add("source", Chance(70) ? "\"fuzz\"" : WildString());
        e.Add("data", EventData(type));
        if (Chance(50))
        {
            Mutate(e);
        }

        Poison(e);
        return e;
    }

    /// <summary>An event that names a protected entity anywhere must be refused, whatever the mutations did.</summary>
    private void Poison(Obj e)
    {
        if (!KeepEntities.Any(e.Mentions))
        {
            return;
        }

        switch (random.Next(6))
        {
            case 0:
                e.Set("occurredAt", Quote(Pick(new[] { "2999-01-01T00:00:00Z", "1800-01-01T00:00:00Z", "2024-02-30T00:00:00Z", "9999-12-31T23:59:59-14:00" })));
                break;
            case 1:
                e.Members.RemoveAll(m => m.Key == "id");
                break;
            case 2:
                e.Set("confidence", Pick(new[] { "1.5", "-1", "\"1\"", "1e400" }));
                break;
            case 3:
                e.Set("type", Quote(Pick(new[] { "recall", "Outage", "" })));
                break;
            case 4:
                e.Set("data", "{\"reports\":1,\"reports\":2,\"severity\":\"minor\",\"severity\":\"major\",\"status\":\"resolved\",\"status\":\"resolved\",\"percent\":1,\"percent\":1,\"deltaUsd\":1,\"deltaUsd\":1,\"participants\":1,\"participants\":1}");
                break;
            default:
                // The entity given twice: refused whole, whichever of the two a lax reader would have taken.
                e.Members.Add(("entity", Quote(Pick(PlayEntities))));
                e.Members.Insert(0, ("entity", Quote(Pick(KeepEntities))));
                break;
        }
    }

    // ---- request kinds -----------------------------------------------------------------------------------------------

    private static readonly string[] JsonTypes =
        ["application/json", "application/json; charset=utf-8", "application/vnd.impact+json", "APPLICATION/JSON", "application/json; charset=latin1"];

    private static readonly string[] NdjsonTypes = ["application/x-ndjson", "application/ndjson", "application/x-ndjson; charset=utf-8"];

    private static readonly string?[] WrongTypes =
    [
        null, "", "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json;;;",
        "*/*", "application/", "not a media type ###", "application/jsonx", "text/json",
    ];

    private string? ContentType(IReadOnlyList<string> right) => Chance(90) ? Pick(right) : Pick(WrongTypes);

    private string? Accept() => Chance(85) ? null : Pick(new[] { "text/html", "application/xml", "*/*", "application/json", "image/png;q=0.1", "garbage" });

    private byte[] Mangle(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (!Chance(25) || bytes.Length == 0)
        {
            return bytes;
        }

        switch (random.Next(6))
        {
            case 0:
                return bytes[..random.Next(bytes.Length)]; // truncated
            case 1:
            {
                // Invalid UTF-8 or a raw control character: never something a parser could take for valid JSON.
                var at = random.Next(bytes.Length);
                return [.. bytes[..at], .. Pick(new byte[][] { [0xFF], [0xC0, 0xAE], [0xED, 0xA0, 0x80], [0x80], [0x00], [0xE2, 0x82], [0x1F] }), .. bytes[at..]];
            }

            case 2:
                return [0xEF, 0xBB, 0xBF, .. bytes]; // a byte order mark
            case 3:
                return Encoding.Unicode.GetBytes(text); // UTF-16
            case 4:
            {
                // One byte overwritten with a non-whitespace control byte or a stray high byte, so that a defect planted
                // in an event cannot be "repaired" into a valid value by chance.
                var copy = bytes.ToArray();
                copy[random.Next(copy.Length)] = Chance(50) ? Pick(new byte[] { 0x00, 0x01, 0x08, 0x0B, 0x0C, 0x1B, 0x1F }) : (byte)random.Next(0x80, 0x100);
                return copy;
            }

            default:
                return [.. bytes, .. Encoding.UTF8.GetBytes(Pick(new[] { "}", "]", ",", " trailing", "\u0000", "{}", "\n{" }))];
        }
    }

    private FuzzRequest Events(int index)
    {
        var count = Chance(40) ? 0 : random.Next(1, Chance(5) ? 260 : 12);
        var text = count == 0
            ? Event(index).ToString()
            : "[" + string.Join(Chance(5) ? ",," : ",", Enumerable.Range(0, count).Select(_ => Chance(90) ? Event(index).ToString() : WildValue())) + "]";
        return new FuzzRequest(index, "POST", "/api/events", Mangle(text), ContentType(JsonTypes), Accept());
    }

    private FuzzRequest Ndjson(int index)
    {
        var lines = Enumerable.Range(0, random.Next(1, 15)).Select(_ => random.Next(10) switch
        {
            0 => "",
            1 => "   \t\r",
            2 => WildValue(),
            3 => Event(index).ToString()[..random.Next(1, 20)],
            4 => "[" + Event(index) + "]",
            _ => Event(index).ToString(),
        });
        return new FuzzRequest(index, "POST", "/api/events", Mangle(string.Join(Pick(new[] { "\n", "\r\n", "\n\n", "\r" }), lines)), ContentType(NdjsonTypes), Accept());
    }

    private FuzzRequest RawBody(int index)
    {
        var (method, path) = Pick(new[]
        {
            ("POST", "/api/events"), ("PUT", "/api/entities/fz-new-raw"), ("PUT", "/api/links"), ("PUT", "/api/groups/fz-grp-raw"),
            ("POST", "/api/alert-rules"), ("POST", "/api/admin/models"), ("POST", "/api/admin/rescore"),
        });
        byte[] body = random.Next(8) switch
        {
            0 => Enumerable.Range(0, random.Next(0, 2000)).Select(_ => (byte)random.Next(256)).ToArray(),
            1 => Encoding.UTF8.GetBytes(Deep(Pick(new[] { 64, 65, 1000, 100_000 }))),
            2 => Encoding.UTF8.GetBytes(Pick(InvalidNumberLiterals)),
            3 => Encoding.UTF8.GetBytes(WildValue()),
            4 => [],
            5 => Encoding.UTF8.GetBytes("{\"a\":" + LongString(Pick(new[] { 60_000, 70_000, 300_000 })) + "}"),
            6 => Encoding.UTF8.GetBytes(new string(' ', random.Next(1, 5000))),
            _ => Encoding.UTF8.GetBytes("{" + string.Join(",", Enumerable.Range(0, random.Next(1, 3000)).Select(i => $"\"k{i % 7}\":{i}")) + "}"),
        };
        return new FuzzRequest(index, method, path, body, ContentType(method == "POST" && path == "/api/events" && Chance(50) ? NdjsonTypes : JsonTypes), Accept());
    }

    /// <summary>
    /// An id in a path. For a write it never names a protected entity or group in any form the server could take for it
    /// (percent-encoded letters, a trailing slash, dot segments); for a read anything goes.
    /// </summary>
    private string PathId(bool write, string fresh, string keep)
    {
        var tricks = new List<string>
        {
            "..", "%2e%2e", "..%2f..%2fhealth", "%2e%2e%2f%2e%2e%2fapi", "..%5c..%5c", "%252e%252e", "%00", "%ff%fe", "%c0%ae%c0%ae", "%e2%80%ae",
            Uri.EscapeDataString("ｆｚ-play-1"), Uri.EscapeDataString("fz-plаy-1"), Uri.EscapeDataString("fz‐play‐1"), "FZ-PLAY-1", "fz_play_1",
            "-fz", "fz-play-1%2F..%2Ffz-play-2", "fz-play-1%20", "%20fz-play-1", "fz-play-1%09", new string('a', 65), new string('b', 5000),
            Uri.EscapeDataString("fz-play-1\u0000"), Uri.EscapeDataString("fz\u202Eplay"), "%", "%zz", "fz-play-1;x=1", "fz-play-1%3Fq",
            keep.ToUpperInvariant(), Uri.EscapeDataString(keep.Replace('-', '‐')), Uri.EscapeDataString(keep.Replace('e', 'е')),
            keep + "%2F", keep + "%2f..", keep + "%00", Uri.EscapeDataString(keep + "\u200b"), keep + ".", keep + "%2e", keep + "%0A",
            keep + "%0D%0A", "%0A" + keep, keep + "%20", keep + "%09", "fz-play-1%0A",
        };
        if (!write)
        {
            tricks.AddRange([keep, keep + "/", "%66z-keep-a", "fz-play-1/../" + keep, "fz-play-1/%2e%2e/" + keep, keep + "/.", keep + "//"]);
        }

        return random.Next(10) switch
        {
            < 4 => fresh,
            < 5 when !write => keep,
            _ => Pick(tricks),
        };
    }

    private FuzzRequest Entity(int index)
    {
        var id = PathId(write: true, Chance(50) ? Pick(PlayEntities) : "fz-new-" + random.Next(200), Pick(KeepEntities));
        var body = new Obj().Add("name", Quote("Fuzz " + index)).Add("kind", Quote(Pick(new[] { "company", "person", "organization", "product" })));
        if (Chance(50)) body.Add("tags", "[" + string.Join(",", Enumerable.Range(0, random.Next(0, 40)).Select(_ => Chance(80) ? Quote("t" + random.Next(50)) : WildValue())) + "]");
        if (Chance(60))
        {
            Mutate(body);
        }

        return new FuzzRequest(index, "PUT", "/api/entities/" + id, Mangle(body.ToString()), ContentType(JsonTypes), Accept());
    }

    private FuzzRequest Link(int index)
    {
        if (Chance(30))
        {
            // Deleting a link: only between fuzz-only entities, or with invalid ids.
            return new FuzzRequest(index, "DELETE", $"/api/links?from={Query(PathId(true, Pick(PlayEntities), "zz"))}&to={Query(PathId(true, Pick(PlayEntities), "zz"))}",
                null, null, Accept());
        }

        var body = new Obj().Add("from", Quote(BodyEntity())).Add("to", Quote(BodyEntity())).Add("weight", Pick(new[] { "0.3", "1", "0", "1.0000001", "-0.5", "1e-320" }))
            .Add("relation", Quote(Pick(new[] { "owner", "supplier", "" })));
        if (Chance(60))
        {
            Mutate(body);
        }

        if (KeepEntities.Any(body.Mentions))
        {
            body.Set("weight", Pick(new[] { "0", "2", "-1", "\"0.5\"", "null" }));
        }

        return new FuzzRequest(index, "PUT", "/api/links", Mangle(body.ToString()), ContentType(JsonTypes), Accept());
    }

    private static string Query(string escaped) => escaped.Replace("/", "%2F", StringComparison.Ordinal);

    private FuzzRequest Group(int index)
    {
        var id = PathId(write: true, "fz-grp-" + random.Next(30), "fz-keep-g");
        var members = Enumerable.Range(0, Chance(3) ? 1001 : random.Next(0, 6)).Select(_ => random.Next(4) switch
        {
            0 => $$"""{"entity":{{Quote(BodyEntity())}},"weight":{{Pick(new[] { "0.5", "1", "0", "2", "\"x\"" })}}}""",
            1 => WildValue(),
            _ => Quote(BodyEntity()),
        });
        var body = new Obj().Add("name", Quote("Group " + index)).Add("method", Quote(Pick(new[] { "max", "weighted-sum", "noisy-or", "sum", "" })))
            .Add("members", "[" + string.Join(",", members) + "]");
        if (Chance(50))
        {
            Mutate(body);
        }

        return new FuzzRequest(index, "PUT", "/api/groups/" + id, Mangle(body.ToString()), ContentType(JsonTypes), Accept());
    }

    private FuzzRequest AlertRule(int index)
    {
        if (Chance(20))
        {
            return new FuzzRequest(index, "DELETE", "/api/alert-rules/" + PathId(true, "rule-" + random.Next(1000), "rule-x"), null, null, Accept());
        }

        // Never a webhook that would be accepted: internal addresses (refused without allow-list), or not URLs at all.
        var webhook = Pick(new[]
        {
            "http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://127.0.0.1:9/", "http://localhost:9/",
            "http://2130706433/", "http://0177.0.0.1/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "ftp://127.0.0.1/", "file:///etc/passwd",
            "javascript:alert(1)", "http://", "//127.0.0.1/", "http://[fd00::1]:8080/x", "http://127.0.0.1:99999/", "gopher://10.0.0.1/",
            "http://user:pass@10.0.0.1/", "http://10.0.0.1%2f@example.invalid/", "http://127.0.0.1#@example.invalid/",
        });
        var body = new Obj().Add("target", Quote(Pick(new[] { "*", "fz-play-1", "fz-keep-a", "group:fz-keep-g", "group:", "Bad" })))
            .Add("metric", Quote(Pick(new[] { "score", "trend24h", "spike", "volume" })))
            .Add("threshold", Pick(Numbers)).Add("coolDown", Quote(Pick(Durations))).Add("webhook", Quote(webhook)).Add("secret", Quote("fuzz-secret-value"));
        if (Chance(50))
        {
            Mutate(body);
        }

        body.Set("webhook", Quote(webhook));
        return new FuzzRequest(index, "POST", "/api/alert-rules", Mangle(body.ToString()), ContentType(JsonTypes), Accept());
    }

    private FuzzRequest Admin(int index)
    {
        if (Chance(30))
        {
            var rescore = new Obj().Add("version", Quote(Pick(new[] { "v1", "v2", "", "../v1", LongString(300) }))).Add("at", Quote(Pick(Instants)));
            if (Chance(50)) rescore.Add("limit", Pick(Numbers));
            Mutate(rescore);
            return new FuzzRequest(index, "POST", "/api/admin/rescore", Mangle(rescore.ToString()), ContentType(JsonTypes), Accept());
        }

        var model = new Obj().Add("version", Quote(Pick(new[] { "fz-v", "v1", "", "x/y", "../v", LongString(300) }) + random.Next(5))).Add("kappa", Pick(Numbers))
            .Add("types", Pick(new[] { "{}", "{\"outage\":{\"severity\":2,\"halfLife\":\"12:00:00\"}}", "{\"outage\":{\"severity\":-1,\"halfLife\":\"-1\"}}", WildValue() }))
            .Add("severityMagnitudes", Pick(new[] { "{\"minor\":0.5,\"major\":1.5,\"critical\":3}", WildValue() }));
        Mutate(model);
        return new FuzzRequest(index, "POST", "/api/admin/models", Mangle(model.ToString()), ContentType(JsonTypes), Accept());
    }

    private static readonly string[] QueryNames =
        ["at", "limit", "before", "from", "to", "step", "kind", "category", "region", "entity", "group", "types", "lastEventId", "x", "", "AT", "limit[]"];

    /// <summary>A value for a parameter: mostly of the parameter's own kind, valid or at an edge, sometimes anything.</summary>
    private string QueryValue(string name)
    {
        if (Chance(25))
        {
            return random.Next(4) switch
            {
                0 => LongString(Pick(new[] { 10, 1000, 6000 })),
                1 => Pick(Numbers.Concat(InvalidNumberLiterals).ToList()),
                2 => Pick(Durations),
                _ => Pick(new[] { "", "\u0000", "\u0001\u001f", "ｆｕｌｌ", "a&b=c", "%", "<script>", "\ud83d\ude00", "null", "[]" }),
            };
        }

        return name switch
        {
            "at" or "before" or "from" or "to" => Pick(Instants),
            "limit" => Pick(Numbers.Concat(InvalidNumberLiterals).Concat(["1", "10", "1000", "1001", " 5", "5 ", "+5", "0005"]).ToList()),
            "step" => Pick(Durations),
            "kind" => Pick(new[] { "company", "person", "organization", "product", "Company", "", "planet" }),
            "category" => Pick(new[] { "operational", "market", "financial", "reputational", "Market", "" }),
            "region" => Pick(new[] { "US", "de", "GLOBAL", "XX", "", "ｕｓ", "U\u0000" }),
            "types" => Pick(new[] { "score", "score,alert,incident", "score,,", ",", "incident,nope", " score ", "SCORE" }),
            "entity" => Pick(new[] { "fz-keep-a", "fz-play-1", "FZ", "fz-keep-a\n", "", new string('a', 65) }),
            "group" => Pick(new[] { "fz-keep-g", "fz-grp-1", "G", "fz-keep-g\n", "" }),
            "lastEventId" => Pick(new[] { "abc-1", "-1", "x-9223372036854775808", "x-99999999999999999999", "--", "", "abc-" }),
            _ => Pick(Instants),
        };
    }

    private string QueryString(IReadOnlyList<string> relevant)
    {
        if (Chance(15))
        {
            return "";
        }

        var parts = Enumerable.Range(0, random.Next(1, 5)).Select(_ =>
        {
            var name = relevant.Count > 0 && Chance(80) ? Pick(relevant) : Pick(QueryNames);
            return Chance(92) ? $"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(QueryValue(name))}" : Uri.EscapeDataString(name);
        });
        return "?" + string.Join("&", parts) + (Chance(5) ? "&&=&" : "") + (Chance(3) ? "%zz=%" : "");
    }

    private FuzzRequest Get(int index)
    {
        var entity = PathId(write: false, Pick(PlayEntities), Pick(KeepEntities));
        var group = PathId(write: false, "fz-grp-" + random.Next(30), "fz-keep-g");
        string[] instant = ["at"], explain = ["at", "limit"], history = ["from", "to", "step"], page = ["limit", "before"];
        var (path, relevant) = Pick(new (string, string[])[]
        {
            ("/api/entities", []), ($"/api/entities/{entity}", []), ($"/api/entities/{entity}/impact", instant),
            ($"/api/entities/{entity}/explain", explain), ($"/api/entities/{entity}/history", history), ($"/api/entities/{entity}/events", page),
            ("/api/leaderboard", ["kind", "category", "region", "limit", "at"]), ("/api/groups", []), ($"/api/groups/{group}", []),
            ($"/api/groups/{group}/impact", instant), ($"/api/groups/{group}/explain", explain), ($"/api/groups/{group}/history", history),
            ("/api/stream", ["entity", "group", "kind", "types", "lastEventId"]), ("/api/alert-rules", []),
            ($"/api/alert-rules/{PathId(false, "rule-1", "rule-x")}", []), ("/api/alerts", page),
            ($"/api/alerts/{PathId(false, "alert-1", "alert-x")}/deliveries", []), ("/api/admin/models", []),
            ($"/api/admin/models/{PathId(false, "v1", "v1")}", []), ("/health/live", []), ("/health/ready", []),
        });
        return new FuzzRequest(index, "GET", path + QueryString(relevant), null, null, Accept());
    }

    private FuzzRequest Odd(int index)
    {
        var (method, path) = Pick(new[]
        {
            ("PATCH", "/api/entities/fz-play-1"), ("DELETE", "/api/entities/fz-play-1"), ("POST", "/api/entities"), ("PUT", "/api/events"),
            ("GET", "/api/events"), ("DELETE", "/api/groups/fz-grp-1"), ("POST", "/api/leaderboard"), ("OPTIONS", "/api/entities"),
            ("GET", "/api/nope"), ("GET", "/api/entities/fz-play-1/nope"), ("POST", "/api/stream"), ("TRACE", "/api/entities"),
            ("GET", "/api/%2e%2e/health/live"), ("GET", "/api//entities"), ("GET", "/API/ENTITIES"), ("PUT", "/api/alert-rules/x"),
            ("FOO", "/api/entities"), ("GET", "/api/entities/" + new string('x', 8000)),
        });
        var body = method is "GET" or "OPTIONS" or "TRACE" ? null : Encoding.UTF8.GetBytes("{}");
        return new FuzzRequest(index, method, path + (Chance(30) ? QueryString([]) : ""), body, body is null ? null : "application/json", Accept());
    }
}
