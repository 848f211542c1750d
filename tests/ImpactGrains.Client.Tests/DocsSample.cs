using ImpactGrains.Client;

public static class DocsSample
{
    public static async Task RunAsync(Uri server, TextWriter output, CancellationToken cancellationToken = default)
    {
        using var impact = ImpactClient.Create(new ImpactClientOptions
        {
            BaseAddress = server, // such as http://127.0.0.1:5080
            ApiKey = Environment.GetEnvironmentVariable("IMPACT_API_KEY"), // none for the open embedded default
        });

        // The demo's leaderboard, and why the first entity scores what it does.
        var board = await impact.GetLeaderboardAsync(limit: 5, cancellationToken: cancellationToken);
        foreach (var entry in board.Entries)
        {
            output.WriteLine($"{entry.Entity,-10} {entry.Kind,-8} {entry.Score,6:0.00}");
        }

        var explain = await impact.ExplainAsync(board.Entries[0].Entity, limit: 3, cancellationToken: cancellationToken);
        foreach (var c in explain.Contributions)
        {
            output.WriteLine($"  {c.EventId} ({c.Type}, {c.Entity}): {c.Contribution:0.00} points");
        }

        // A new entity, linked to Elon Musk, and a stream of its events that the client posts in batches.
        await impact.PutEntityAsync("acme", new EntityRequest("Acme Corp", EntityKinds.Company, ["retail"]), cancellationToken);
        await impact.PutLinkAsync(new LinkRequest("elon-musk", "acme", 0.2, "investor"), cancellationToken);
        var totals = await impact.PostEventsAsync(AcmeEvents(DateTimeOffset.UtcNow), cancellationToken);
        output.WriteLine($"acme: {totals.Accepted} accepted, {totals.Duplicates} duplicates, {totals.Rejected.Count} rejected");

        var score = await impact.GetImpactAsync("acme", cancellationToken: cancellationToken);
        output.WriteLine($"acme: score {score.Score:0.00} (direct {score.Direct:0.00}, inherited {score.Inherited:0.00}) from {score.EventCount} events");

        // Errors are problem+json, thrown as ImpactApiException.
        try
        {
            await impact.GetImpactAsync("nobody", cancellationToken: cancellationToken);
        }
        catch (ImpactApiException e) when (e.Status == 404)
        {
            output.WriteLine(e.Message);
        }
    }

    private static async IAsyncEnumerable<EventRequest> AcmeEvents(DateTimeOffset now)
    {
        for (var hour = 24; hour > 0; hour--)
        {
            yield return EventRequest.Outage($"acme-outage-{hour}", "acme", now.AddHours(-hour), reports: 400 + 100 * hour, baselineReports: 500, region: "US");
        }

        yield return EventRequest.StockChange("acme-stock-1", "acme", now.AddMinutes(-30), percent: -6.5) with { Source = "exchange feed" };
        await Task.CompletedTask;
    }
}
