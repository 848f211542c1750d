using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// ETag, 304 and Cache-Control on the hot reads (#15), the leaderboard answered from each silo's copy of the published
/// standings, and the keys still enforced in front of all of it. A server of its own, with the test keys configured.
/// </summary>
public sealed class ReadCachingTests : IAsyncLifetime
{
    private ServerProcess server = null!;
    private HttpClient reader = null!;

    public async Task InitializeAsync()
    {
        server = await ServerProcess.StartAsync(demo: false, extraArgs: TestApiKeys.ServerArgs);
        reader = server.ClientWithKey(TestApiKeys.Reader);
    }

    public async Task DisposeAsync()
    {
        reader.Dispose();
        await server.DisposeAsync();
        server.DeleteData();
    }

    private HttpClient Admin => server.Http;

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string url, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return await http.SendAsync(request);
    }

    [Fact]
    public async Task An_unchanged_entity_answers_304_at_an_instant_and_a_new_event_changes_its_tag()
    {
        await Admin.RegisterAsync("etag-a");
        var earlier = DateTimeOffset.UtcNow.AddMinutes(-10).ToString("yyyy-MM-ddTHH:mm:ssZ");
        await (await Admin.PostJsonAsync("/api/events", Outage("etag-a-1", "etag-a", earlier, 3000))).JsonAsync();
        var at = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ"));
        var url = $"/api/entities/etag-a/impact?at={at}";

        using var first = await GetAsync(reader, url);
        var body = await first.JsonAsync();
        var tag = first.Headers.ETag;
        Assert.NotNull(tag);
        Assert.False(tag.IsWeak);
        Assert.True(first.Headers.CacheControl is { Private: true, NoCache: true, MaxAge: null }, $"Cache-Control: {first.Headers.CacheControl}");
        Assert.Equal(1, body.GetProperty("eventCount").GetInt32());

        // Unchanged: 304 with the same tag and no body; a weak form of the tag matches too (RFC 9110's weak comparison).
        foreach (var sent in new[] { tag.Tag, "W/" + tag.Tag, "\"other\", " + tag.Tag })
        {
            using var again = await GetAsync(reader, url, sent);
            Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
            Assert.Equal(tag, again.Headers.ETag);
            Assert.Empty(await again.Content.ReadAsByteArrayAsync());
        }

        // "*" stands for any current answer.
        using (var any = await GetAsync(reader, url, "*"))
        {
            Assert.Equal(HttpStatusCode.NotModified, any.StatusCode);
        }

        // The same tag for another instant is another answer: 200.
        using var otherInstant = await GetAsync(reader, "/api/entities/etag-a/impact?at=" + Uri.EscapeDataString(earlier), tag.Tag);
        Assert.Equal(HttpStatusCode.OK, otherInstant.StatusCode);

        // A late event before the instant changes the answer, and so the tag.
        await (await Admin.PostJsonAsync("/api/events", Outage("etag-a-2", "etag-a", earlier, 500))).JsonAsync();
        using var changed = await GetAsync(reader, url, tag.Tag);
        var changedBody = await changed.JsonAsync();
        Assert.Equal(2, changedBody.GetProperty("eventCount").GetInt32());
        Assert.NotEqual(tag, changed.Headers.ETag);
    }

    [Fact]
    public async Task Explain_answers_304_for_an_unchanged_entity_and_the_body_is_as_before()
    {
        await Admin.RegisterAsync("etag-x");
        var earlier = DateTimeOffset.UtcNow.AddMinutes(-10).ToString("yyyy-MM-ddTHH:mm:ssZ");
        await (await Admin.PostJsonAsync("/api/events", Outage("etag-x-1", "etag-x", earlier, 3000))).JsonAsync();
        var url = $"/api/entities/etag-x/explain?limit=5&at={Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"))}";
        using var first = await GetAsync(reader, url);
        var body = await first.JsonAsync();
        Assert.Equal("application/json; charset=utf-8", first.Content.Headers.ContentType?.ToString());
        Assert.Equal("etag-x-1", body.GetProperty("contributions")[0].GetProperty("eventId").GetString());
        using var again = await GetAsync(reader, url, first.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);

        // Another limit is another answer, even with the same tag.
        using var otherLimit = await GetAsync(reader, url.Replace("limit=5", "limit=6", StringComparison.Ordinal), first.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, otherLimit.StatusCode);
    }

    [Fact]
    public async Task Impact_now_has_a_tag_per_instant_and_stays_exact()
    {
        await Admin.RegisterAsync("etag-now");
        var now = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        await (await Admin.PostJsonAsync("/api/events", Outage("etag-now-1", "etag-now", now, 3000))).JsonAsync();
        using var first = await GetAsync(reader, "/api/entities/etag-now/impact");
        await first.JsonAsync();
        await Task.Delay(5);

        // Without at the answer is for now: a later request is another instant, so never a stale 304.
        using var second = await GetAsync(reader, "/api/entities/etag-now/impact", first.Headers.ETag!.Tag);
        var body = await second.JsonAsync();
        Assert.NotEqual(first.Headers.ETag, second.Headers.ETag);
        Assert.Equal(1, body.GetProperty("eventCount").GetInt32());
    }

    [Fact]
    public async Task The_live_leaderboard_has_a_tag_and_max_age_and_answers_304_until_it_changes()
    {
        await Admin.RegisterAsync("lb-etag-a", "organization");
        var now = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        await (await Admin.PostJsonAsync("/api/events", Outage("lb-etag-a-1", "lb-etag-a", now, 3000))).JsonAsync();
        const string url = "/api/leaderboard?kind=organization&limit=5";
        await EventuallyTopAsync(url, "lb-etag-a");

        // The tag names the publication and the publish interval (250 ms): within one, the same request is a 304.
        var notModified = 0;
        for (var i = 0; i < 20 && notModified == 0; i++)
        {
            using var first = await GetAsync(reader, url);
            await first.JsonAsync();
            AssertOneSecondPrivate(first);
            Assert.Equal("application/json; charset=utf-8", first.Content.Headers.ContentType?.ToString());
            using var again = await GetAsync(reader, url, first.Headers.ETag!.Tag);
            if (again.StatusCode == HttpStatusCode.NotModified)
            {
                Assert.Equal(first.Headers.ETag, again.Headers.ETag);
                AssertOneSecondPrivate(again);
                notModified++;
            }
            else
            {
                await again.JsonAsync();
                Assert.NotEqual(first.Headers.ETag, again.Headers.ETag); // a new interval or publication: a new tag
            }
        }

        Assert.Equal(1, notModified);

        // The answer names the instant it was ranked at: the start of the current publish interval.
        var board = await reader.GetJsonAsync(url);
        var at = board.GetProperty("at").GetDateTimeOffset();
        Assert.Equal(0, at.UtcTicks % TimeSpan.FromMilliseconds(250).Ticks);
        Assert.InRange(DateTimeOffset.UtcNow - at, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_new_standing_reaches_every_silos_copy_of_the_leaderboard_within_a_publish_interval_or_two()
    {
        await Admin.RegisterAsync("lb-fresh-a", "person");
        await Admin.RegisterAsync("lb-fresh-b", "person");
        var now = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");
        await (await Admin.PostJsonAsync("/api/events", Outage("lb-fresh-a-1", "lb-fresh-a", now, 2000))).JsonAsync();
        const string url = "/api/leaderboard?kind=person&limit=3";
        await EventuallyTopAsync(url, "lb-fresh-a");

        // An acknowledged event that puts b on top shows in the copy within the report interval (100 ms), the publish
        // interval (250 ms) and half of one for the copy's refresh; a second of slack for this shared machine.
        await (await Admin.PostJsonAsync("/api/events", Outage("lb-fresh-b-1", "lb-fresh-b", now, 90_000))).JsonAsync();
        var elapsed = await EventuallyTopAsync(url, "lb-fresh-b");
        Assert.True(elapsed < TimeSpan.FromMilliseconds(1500), $"the new standing took {elapsed.TotalMilliseconds:0} ms to show");
    }

    [Fact]
    public async Task Keys_are_still_enforced_on_cached_and_tagged_reads()
    {
        await Admin.RegisterAsync("etag-keys");
        using var first = await GetAsync(reader, "/api/leaderboard?limit=3");
        await first.JsonAsync();
        var tag = first.Headers.ETag!.Tag;
        using var impact = await GetAsync(reader, "/api/entities/etag-keys/impact?at=2026-01-01T00:00:00Z");
        await impact.JsonAsync();

        foreach (var url in new[] { "/api/leaderboard?limit=3", "/api/entities/etag-keys/impact?at=2026-01-01T00:00:00Z" })
        {
            var sent = url.Contains("leaderboard", StringComparison.Ordinal) ? tag : impact.Headers.ETag!.Tag;
            using var anonymous = server.ClientWithKey(null);
            using var none = await GetAsync(anonymous, url, sent);
            await none.ProblemAsync(HttpStatusCode.Unauthorized);
            using var wrong = server.ClientWithKey(TestApiKeys.Create());
            using var invalid = await GetAsync(wrong, url, sent);
            await invalid.ProblemAsync(HttpStatusCode.Unauthorized);
            using var ingester = server.ClientWithKey(TestApiKeys.Ingester);
            using var forbidden = await GetAsync(ingester, url, sent);
            await forbidden.ProblemAsync(HttpStatusCode.Forbidden);
            using var allowed = await GetAsync(reader, url);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }
    }

    // Keys guard these answers, so no shared cache may keep them; max-age is the publish interval in whole seconds.
    private static void AssertOneSecondPrivate(HttpResponseMessage response) =>
        Assert.True(response.Headers.CacheControl is { Private: true, NoCache: false } c && c.MaxAge == TimeSpan.FromSeconds(1),
            $"Cache-Control: {response.Headers.CacheControl}");

    private async Task<TimeSpan> EventuallyTopAsync(string url, string entity)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var entries = (await reader.GetJsonAsync(url)).GetProperty("entries");
            if (entries.GetArrayLength() > 0 && entries[0].GetProperty("entity").GetString() == entity)
            {
                return watch.Elapsed;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{entity} did not reach the top of {url} in 10 s");
            await Task.Delay(10);
        }
    }
}
