using System.Globalization;

namespace ImpactGrains.Cli.Tests;

/// <summary>watch against the real server's stream.</summary>
[Collection(CliServerCollection.Name)]
public sealed class WatchTests(CliServerFixture fixture)
{
    [Fact]
    public async Task Watch_prints_a_score_line_after_an_event_is_posted()
    {
        await fixture.RegisterAsync("watch-acme", "person", "Watched Person");
        using var stop = new CancellationTokenSource();
        var output = new LockedWriter();
        var error = new LockedWriter();

        var run = Cli.StartAsync(fixture.Url, output, error, stop.Token, null, "watch", "watch-acme", "--types", "score");
        await ResilienceTests.WaitForAsync(() => error.Text.Contains("notice: watching"), TimeSpan.FromSeconds(20));
        var at = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var answer = await fixture.PostNdjsonAsync(
            $$$"""{"id":"watch-1","entity":"watch-acme","type":"statement","occurredAt":"{{{at}}}","data":{"severity":"critical"}}""" + "\n");
        Assert.Equal(1, answer.GetProperty("accepted").GetInt32());
        await ResilienceTests.WaitForAsync(() => output.Text.Contains("score    watch-acme"), TimeSpan.FromSeconds(20));
        stop.Cancel();
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(exit == 0, $"{exit}\n{output.Text}\n{error.Text}");
        var line = output.Text.Split('\n').First(l => l.Contains("score    watch-acme"));
        var impact = await fixture.GetJsonAsync("/api/entities/watch-acme/impact");
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ score    watch-acme \d+\.\d\d direct \d+\.\d\d inherited 0\.00 \(Watched Person, person\)\s*$", line);
        Assert.True(impact.GetProperty("score").GetDouble() > 0);
        Assert.DoesNotContain("error", error.Text);
    }
}
