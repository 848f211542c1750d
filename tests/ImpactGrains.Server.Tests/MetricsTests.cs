using System.Net;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class MetricsTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    /// <summary>The value of a Prometheus sample whose name and labels contain the given parts, or null.</summary>
    private static double? Sample(string text, string name, params string[] labels) =>
        text.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && labels.All(l.Contains))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .Cast<double?>()
            .FirstOrDefault();

    [Fact]
    public async Task Metrics_expose_each_of_our_own_measures_and_orleans_and_aspnetcore_meters()
    {
        await Api.RegisterAsync("metrics-a");
        string Scrape(string text, string name, params string[] labels) => Sample(text, name, labels)?.ToString() ?? "missing";
        var before = await Api.GetStringAsync("/metrics");
        double Count(string text, string name, params string[] labels) => Sample(text, name, labels) ?? 0;

        await using var stream = await StreamTests.SseReader.OpenAsync(Api, "/api/stream?entity=metrics-a");
        await (await Api.PostJsonAsync("/api/events", "[" + string.Join(",",
            Outage("metrics-1", "metrics-a", "2025-03-10T14:00:00Z", 100),
            Outage("metrics-2", "metrics-a", "2025-03-10T15:00:00Z", 200),
            """{"id":"metrics-3","entity":"metrics-a","type":"stock-change","occurredAt":"2025-03-10T15:00:00Z","data":{"percent":-3}}""",
            """{"id":"metrics-bad","entity":"metrics-a","type":"outage"}""",
            Outage("metrics-1", "metrics-a", "2025-03-10T14:00:00Z", 100)) + "]")).JsonAsync();

        // The Prometheus exporter serves a cached scrape for a few hundred milliseconds: scrape until it is a new one.
        string after;
        var scrapes = 0;
        do
        {
            await Task.Delay(scrapes++ == 0 ? 0 : 100);
            var response = await Api.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            after = await response.Content.ReadAsStringAsync();
        }
        while ((after == before ||
                Count(after, "impactgrains_events_accepted_total", "type=\"outage\"") - Count(before, "impactgrains_events_accepted_total", "type=\"outage\"") < 2) &&
               scrapes < 50);

        Assert.Equal(2, Count(after, "impactgrains_events_accepted_total", "type=\"outage\"") - Count(before, "impactgrains_events_accepted_total", "type=\"outage\""));
        Assert.Equal(1, Count(after, "impactgrains_events_accepted_total", "type=\"stock-change\"") - Count(before, "impactgrains_events_accepted_total", "type=\"stock-change\""));
        Assert.Equal(1, Count(after, "impactgrains_events_duplicate_total", "type=\"outage\"") - Count(before, "impactgrains_events_duplicate_total", "type=\"outage\""));
        Assert.True(Count(after, "impactgrains_events_rejected_total") - Count(before, "impactgrains_events_rejected_total") >= 1);
        Assert.True(Count(after, "impactgrains_batch_commit_duration_seconds_count") > Count(before, "impactgrains_batch_commit_duration_seconds_count"));
        Assert.True(Count(after, "impactgrains_grain_apply_duration_seconds_count") > Count(before, "impactgrains_grain_apply_duration_seconds_count"));
        Assert.True(Count(after, "impactgrains_freshness_seconds_count") > Count(before, "impactgrains_freshness_seconds_count"));
        Assert.True(Count(after, "impactgrains_stream_subscribers") >= 1, Scrape(after, "impactgrains_stream_subscribers"));

        // Orleans' and ASP.NET Core's own meters are there too.
        Assert.Contains("orleans_", after);
        Assert.Contains("http_server_request_duration_seconds", after);

        // ASP.NET Core's per-request instruments that nothing reads are dropped (TelemetrySetup): routing matched
        // every request above.
        foreach (var dropped in ImpactGrains.Server.Hosting.TelemetrySetup.DroppedPerRequestInstruments)
        {
            Assert.DoesNotContain(dropped.Replace('.', '_'), after);
        }
    }
}
