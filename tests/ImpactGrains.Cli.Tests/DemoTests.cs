using System.Globalization;
using System.Text.Json;

namespace ImpactGrains.Cli.Tests;

/// <summary>
/// The demo, built with the CLI: entities, links and a group through the admin commands, the events through ingest,
/// then show, top and groups get compared with what the API answers.
/// </summary>
[Collection(CliServerCollection.Name)]
public sealed class DemoTests(CliServerFixture fixture)
{
    private static string S(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private async Task<CliResult> OkAsync(params string[] args)
    {
        var result = await Cli.RunAsync(fixture.Url, args);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Error);
        return result;
    }

    [Fact]
    public async Task The_demo_is_administered_ingested_shown_and_ranked_through_the_CLI()
    {
        // Entities: created, then updated.
        var created = await OkAsync("entities", "put", "demo-tesla", "--name", "Tesla Inc", "--kind", "company", "--tag", "automotive");
        Assert.Equal("created entity demo-tesla (Tesla Inc, company)", created.Out.Trim());
        var updated = await OkAsync("entities", "put", "demo-tesla", "--name", "Tesla", "--kind", "company", "--tag", "automotive", "--tag", "musk-companies");
        Assert.Equal("updated entity demo-tesla (Tesla, company)", updated.Out.Trim());
        await OkAsync("entities", "put", "demo-x", "--name", "X", "--kind", "company");
        await OkAsync("entities", "put", "demo-spacex", "--name", "SpaceX", "--kind", "company");
        await OkAsync("entities", "put", "demo-musk", "--name", "Elon Musk", "--kind", "person", "--tag", "executive");

        // Links: created, updated, one removed again.
        Assert.Equal("created link demo-musk → demo-tesla (weight 0.5, ceo)",
            (await OkAsync("links", "put", "--from", "demo-musk", "--to", "demo-tesla", "--weight", "0.5", "--relation", "ceo")).Out.Trim());
        await OkAsync("links", "put", "--from", "demo-musk", "--to", "demo-x", "--weight", "0.4", "--relation", "owner");
        Assert.Equal("updated link demo-musk → demo-x (weight 0.5, owner)",
            (await OkAsync("links", "put", "--from", "demo-musk", "--to", "demo-x", "--weight", "0.5", "--relation", "owner")).Out.Trim());
        await OkAsync("links", "put", "--from", "demo-tesla", "--to", "demo-musk", "--weight", "0.4", "--relation", "leads");
        await OkAsync("links", "put", "--from", "demo-spacex", "--to", "demo-musk", "--weight", "0.3", "--relation", "leads");
        Assert.Equal("deleted link demo-spacex → demo-musk",
            (await OkAsync("links", "delete", "--from", "demo-spacex", "--to", "demo-musk")).Out.Trim());
        var gone = await Cli.RunAsync(fixture.Url, "links", "delete", "--from", "demo-spacex", "--to", "demo-musk");
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal("error: Not found (HTTP 404): there is no link from 'demo-spacex' to 'demo-musk'", gone.Error.Trim());

        // A group.
        var group = await OkAsync("groups", "put", "demo-musk-companies", "--name", "Musk companies", "--method", "noisy-or",
            "--member", "demo-x", "--member", "demo-tesla=0.5", "--member", "demo-spacex");
        Assert.Equal("created group demo-musk-companies (Musk companies, noisy-or): demo-x, demo-tesla=0.5, demo-spacex", group.Out.Trim());

        // What the admin commands show.
        var tesla = Cli.Squeeze((await OkAsync("entities", "get", "demo-tesla")).Out);
        Assert.Contains("│ Name │ Tesla │", tesla);
        Assert.Contains("│ Kind │ company │", tesla);
        Assert.Contains("│ Tags │ automotive, musk-companies │", tesla);
        Assert.Contains("│ demo-musk │ demo-tesla │ 0.5 │ ceo │", tesla);
        Assert.Contains("│ demo-tesla │ demo-musk │ 0.4 │ leads │", tesla);
        var list = Cli.Squeeze((await OkAsync("entities", "list")).Out);
        Assert.True(list.Contains("│ demo-musk │ Elon Musk │ person │ 0.00 │", StringComparison.Ordinal), list);
        var groups = Cli.Squeeze((await OkAsync("groups", "list")).Out);
        Assert.Contains("│ demo-musk-companies │ Musk companies │ noisy-or │ demo-x, demo-tesla=0.5, demo-spacex │", groups);

        // The demo's events, shifted to end a minute ago, with a broken line, an unknown entity and a blank line.
        var end = DateTimeOffset.UtcNow.AddMinutes(-1);
        string At(double hoursBeforeEnd) => end.AddHours(-hoursBeforeEnd).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var file = fixture.File("demo.ndjson");
        await File.WriteAllLinesAsync(file,
        [
            $$$"""{"id":"d-tesla-sales-cn","entity":"demo-tesla","type":"sales-change","occurredAt":"{{{At(158)}}}","region":"CN","data":{"percent":-49,"period":"2025-02"}}""",
            $$$"""{"id":"d-tesla-sales-de","entity":"demo-tesla","type":"sales-change","occurredAt":"{{{At(133)}}}","region":"DE","data":{"percent":-76,"period":"2025-02"}}""",
            $$$"""{"id":"d-spacex-starship","entity":"demo-spacex","type":"product-failure","occurredAt":"{{{At(93.5)}}}","region":"US","data":{"severity":"critical","description":"Starship exploded"}}""",
            "{not json",
            $$$"""{"id":"d-tesla-protests","entity":"demo-tesla","type":"protest","occurredAt":"{{{At(52)}}}","region":"US","confidence":0.9,"data":{"locations":50}}""",
            "",
            $$$"""{"id":"d-x-outage-1","entity":"demo-x","type":"outage","occurredAt":"{{{At(8)}}}","region":"US","data":{"reports":39021,"baselineReports":500,"durationMinutes":60}}""",
            $$$"""{"id":"d-x-outage-2","entity":"demo-x","type":"outage","occurredAt":"{{{At(5.5)}}}","region":"US","data":{"reports":20000,"baselineReports":500,"durationMinutes":120}}""",
            $$$"""{"id":"d-x-outage-3","entity":"demo-x","type":"outage","occurredAt":"{{{At(3)}}}","region":"US","data":{"reports":10000,"baselineReports":500,"durationMinutes":60}}""",
            $$$"""{"id":"d-tesla-stock","entity":"demo-tesla","type":"stock-change","occurredAt":"{{{At(2)}}}","region":"US","data":{"percent":-15.4,"closePrice":222.15}}""",
            $$$"""{"id":"d-x-cyberattack","entity":"demo-x","type":"cyberattack","occurredAt":"{{{At(1)}}}","confidence":0.3,"data":{"claimed":true,"attribution":"disputed"}}""",
            $$$"""{"id":"d-musk-statement","entity":"demo-musk","type":"statement","occurredAt":"{{{At(1)}}}","data":{"severity":"major"}}""",
            $$$"""{"id":"d-nobody","entity":"demo-nobody","type":"statement","occurredAt":"{{{At(1)}}}","data":{"severity":"minor"}}""",
            $$$"""{"id":"d-musk-net-worth","entity":"demo-musk","type":"net-worth-change","occurredAt":"{{{At(0)}}}","data":{"deltaUsd":-132e9,"netWorthUsd":301e9}}""",
        ]);

        var ingest = await Cli.RunAsync(fixture.Url, "ingest", file);
        Assert.True(ingest.ExitCode == 0, ingest.ToString());
        Assert.Equal((13, 11, 0, 2), Cli.Summary(ingest, file));
        var rejected = File.ReadAllLines(file + ".rejected.ndjson").Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(2, rejected.Length);
        Assert.Equal(3, rejected[0].GetProperty("index").GetInt32());
        Assert.Equal(4, rejected[0].GetProperty("line").GetInt32());
        Assert.Equal(JsonValueKind.Null, rejected[0].GetProperty("id").ValueKind);
        Assert.StartsWith("the line is not valid JSON", rejected[0].GetProperty("error").GetString());
        Assert.Equal(11, rejected[1].GetProperty("index").GetInt32());
        Assert.Equal(13, rejected[1].GetProperty("line").GetInt32());
        Assert.Equal("d-nobody", rejected[1].GetProperty("id").GetString());
        Assert.Equal("entity: unknown entity 'demo-nobody'; register it with PUT /api/entities/demo-nobody", rejected[1].GetProperty("error").GetString());
        Assert.Contains($"Rejected events of {file}, with the reasons: {file}.rejected.ndjson", ingest.Out);
        Assert.False(File.Exists(file + ".impact-progress"));

        // Again: ids are idempotent, so everything is a duplicate and nothing changes.
        var again = await Cli.RunAsync(fixture.Url, "ingest", file);
        Assert.Equal((13, 0, 11, 2), Cli.Summary(again, file));
        Assert.Equal(2, File.ReadAllLines(file + ".rejected.ndjson").Length);

        // show, at a fixed instant so that decay does not move the numbers between the CLI and the API.
        var at = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        await fixture.CountEventsAsync(["demo-tesla", "demo-x", "demo-spacex", "demo-musk"], 11, TimeSpan.FromSeconds(20));
        var show = Cli.Squeeze((await OkAsync("show", "demo-tesla", "--at", at)).Out);
        var impact = await fixture.GetJsonAsync($"/api/entities/demo-tesla/impact?at={Uri.EscapeDataString(at)}");
        var explain = await fixture.GetJsonAsync($"/api/entities/demo-tesla/explain?at={Uri.EscapeDataString(at)}&limit=10");
        Assert.Contains($"Tesla (demo-tesla, company) at {at}, model {impact.GetProperty("modelVersion").GetString()}", show);
        Assert.Contains($"│ Score │ {S(impact.GetProperty("score").GetDouble())} │", show);
        Assert.Contains($"│ Direct │ {S(impact.GetProperty("direct").GetDouble())} │", show);
        Assert.Contains($"│ Inherited │ {S(impact.GetProperty("inherited").GetDouble())} │", show);
        Assert.Contains($"│ Peak │ {S(impact.GetProperty("peak").GetProperty("score").GetDouble())} │", show);
        var trend = impact.GetProperty("trend24h").GetDouble();
        Assert.Contains($"│ Trend 24h │ {(trend >= 0 ? "+" : "")}{S(trend)} │", show);
        Assert.Contains("│ Events │ 4 │", show);
        Assert.True(impact.GetProperty("inherited").GetDouble() > 0, "Tesla inherits from Musk");
        foreach (var category in impact.GetProperty("categories").EnumerateObject())
        {
            Assert.Contains($"│ {category.Name} │ {S(category.Value.GetDouble())} │", show);
        }

        Assert.Equal(["CN", "DE", "GLOBAL", "US"], impact.GetProperty("regions").EnumerateObject().Select(r => r.Name).Order());
        foreach (var region in impact.GetProperty("regions").EnumerateObject())
        {
            Assert.Contains($"│ {region.Name} │ {S(region.Value.GetDouble())} │", show);
        }

        var contributions = explain.GetProperty("contributions").EnumerateArray().ToArray();
        Assert.Equal(6, contributions.Length); // four of its own, two inherited from Musk
        var rank = 0;
        foreach (var contribution in contributions)
        {
            var entity = contribution.GetProperty("entity").GetString();
            Assert.Contains(
                $"│ {++rank} │ {contribution.GetProperty("eventId").GetString()} │ {entity}{(entity == "demo-tesla" ? "" : " (inherited)")} │ " +
                $"{contribution.GetProperty("type").GetString()} │", show);
            Assert.Contains($"│ {S(contribution.GetProperty("contribution").GetDouble())} │", show);
        }

        // top: the companies by score, and by the operational category.
        foreach (var args in new[] { new[] { "--kind", "company" }, ["--kind", "company", "--category", "operational", "--limit", "2"] })
        {
            var top = Cli.Squeeze((await OkAsync(["top", .. args, "--at", at])).Out);
            var query = string.Join('&', args.Chunk(2).Select(p => $"{p[0][2..]}={p[1]}"));
            var board = await fixture.GetJsonAsync($"/api/leaderboard?{query}&at={Uri.EscapeDataString(at)}");
            var entries = board.GetProperty("entries").EnumerateArray().ToArray();
            Assert.NotEmpty(entries);
            for (var i = 0; i < entries.Length; i++)
            {
                var e = entries[i];
                Assert.Contains($"│ {i + 1} │ {e.GetProperty("entity").GetString()} │ {e.GetProperty("name").GetString()} │ company │ {S(e.GetProperty("score").GetDouble())} │", top);
            }

            Assert.DoesNotContain($"│ {entries.Length + 1} │", top);
        }

        Assert.Contains("│ 1 │ demo-x │ X │ company │", Cli.Squeeze((await OkAsync("top", "--kind", "company", "--category", "operational", "--at", at)).Out));

        // groups get: the group's score and its members' shares.
        var groupImpact = await fixture.GetJsonAsync($"/api/groups/demo-musk-companies/impact?at={Uri.EscapeDataString(at)}");
        var shown = Cli.Squeeze((await OkAsync("groups", "get", "demo-musk-companies", "--at", at)).Out);
        Assert.Contains($"Musk companies (demo-musk-companies, noisy-or) at {at}: score {S(groupImpact.GetProperty("score").GetDouble())}", shown);
        foreach (var member in groupImpact.GetProperty("members").EnumerateArray())
        {
            var share = (member.GetProperty("share").GetDouble() * 100).ToString("0.0", CultureInfo.InvariantCulture);
            Assert.Contains($"│ {member.GetProperty("entity").GetString()} │ {member.GetProperty("weight").GetDouble().ToString(CultureInfo.InvariantCulture)} │ " +
                            $"{S(member.GetProperty("score").GetDouble())} │ {share} % │", shown);
        }
    }

    [Fact]
    public async Task Entities_and_links_are_imported_in_bulk_and_listed_by_search()
    {
        var entities = fixture.File("entities.ndjson");
        await File.WriteAllLinesAsync(entities,
        [
            .. Enumerable.Range(0, 12).Select(i => $$"""{"id":"imp-{{i:00}}","name":"Imported {{i}}","kind":"company","tags":["imported"]}"""),
            "",
            "{broken",
            """{"id":"Imp Bad","name":"Bad","kind":"company"}""",
        ]);
        var imported = await Cli.RunAsync(fixture.Url, "entities", "import", entities);
        Assert.Equal(1, imported.ExitCode);
        Assert.Equal("imported 12 entities from " + entities, imported.Out.Trim());
        var errors = imported.Error.Trim().Split('\n');
        Assert.Equal(3, errors.Length);
        Assert.StartsWith($"{entities}:14: not a valid entity:", errors[0]);
        Assert.StartsWith($"{entities}:15: Imp Bad: id:", errors[1]);
        Assert.Equal($"error: 2 lines of {entities} rejected", errors[2]);

        var links = fixture.File("links.ndjson");
        await File.WriteAllLinesAsync(links, ["""{"from":"imp-00","to":"imp-01","weight":0.5,"relation":"owner"}"""]);
        Assert.Equal("imported 1 link from " + links, (await OkAsync("links", "import", links)).Out.Trim());
        Assert.Contains("│ imp-00 │ imp-01 │ 0.5 │ owner │", Cli.Squeeze((await OkAsync("entities", "get", "imp-01")).Out));

        // The list walks every page (more than the server's page size exist in this fixture) or stops at --limit.
        var all = Cli.Squeeze((await OkAsync("entities", "list", "--search", "imported")).Out);
        Assert.Contains("│ imp-00 │ Imported 0 │ company │ 0.00 │", all);
        Assert.Contains("│ imp-11 │ Imported 11 │ company │ 0.00 │", all);
        Assert.Contains("12 entities", all);
        var two = Cli.Squeeze((await OkAsync("entities", "list", "--search", "imp-", "--limit", "2")).Out);
        Assert.Contains("│ imp-01 │", two);
        Assert.DoesNotContain("│ imp-02 │", two);
        Assert.Contains("2 entities", two);
        Assert.Contains("0 entities", (await OkAsync("entities", "list", "--search", "imp-", "--kind", "person")).Out);
        var bad = await Cli.RunAsync(fixture.Url, "entities", "list", "--limit", "0");
        Assert.Equal((2, "error: --limit: must be at least 1"), (bad.ExitCode, bad.Error.Trim()));
    }
}
