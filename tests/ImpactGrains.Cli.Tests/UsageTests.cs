namespace ImpactGrains.Cli.Tests;

/// <summary>Bad usage and failures: one line on standard error, nothing on standard output, exit code 2 or 1.</summary>
[Collection(CliServerCollection.Name)]
public sealed class UsageTests(CliServerFixture fixture)
{
    [Theory]
    [InlineData("error: Unrecognized command or argument 'frobnicate'. (see 'impact --help')", "frobnicate")]
    [InlineData("error: Required command was not provided. (see 'impact --help')")]
    [InlineData("error: Required argument 'ENTITY' missing for command: 'show'. (see 'impact show --help')", "show")]
    [InlineData("error: Argument 'robot' not recognized. Must be one of:", "top", "--kind", "robot")]
    [InlineData("error: --limit: must be a whole number from 1 to 1000", "top", "--limit", "0")]
    [InlineData("error: Option '--name' is required. (see 'impact entities put --help')", "entities", "put", "acme", "--kind", "company")]
    [InlineData("error: --member: 'x=2' is not ENTITY or ENTITY=WEIGHT with a weight in (0, 1], such as tesla=0.5", "groups", "put", "g", "--name", "G", "--method", "max", "--member", "x=2")]
    [InlineData("error: --weight: must be a number in (0, 1]", "links", "put", "--from", "a", "--to", "b", "--weight", "1.5", "--relation", "ceo")]
    [InlineData("error: --types: 'foo' is not one of score, alert, incident", "watch", "--types", "score,foo")]
    public async Task Bad_usage_is_one_line_and_exit_code_2(string expected, params string[] args)
    {
        var result = await Cli.RunAsync(fixture.Url, args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.Out);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(expected, line);
    }

    [Theory]
    [InlineData("error: Unknown entity (HTTP 404): there is no entity 'nobody'", "show", "nobody")]
    [InlineData("error: Unknown entity (HTTP 404): there is no entity 'nobody'", "entities", "get", "nobody")]
    [InlineData("error: Unknown entity (HTTP 404): there is no entity 'nobody'", "watch", "nobody")]
    [InlineData("error: Invalid request (HTTP 400): at: 'yesterday' is not an RFC 3339 timestamp with an offset, such as 2025-03-10T14:00:00Z", "top", "--at", "yesterday")]
    [InlineData("error: Invalid request (HTTP 400): id: 'Bad_Id' is not a valid entity id", "entities", "put", "Bad_Id", "--name", "x", "--kind", "company")]
    [InlineData("error: /no/such/file.ndjson: no such file", "ingest", "/no/such/file.ndjson")]
    public async Task Failures_are_one_line_and_exit_code_1(string expected, params string[] args)
    {
        var result = await Cli.RunAsync(fixture.Url, args);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Out);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(expected, line);
    }

    [Fact]
    public async Task A_bad_url_is_a_usage_error()
    {
        var result = await Cli.RunAsync(null, CancellationToken.None, null, "top", "--url", "ftp://example");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("error: --url: 'ftp://example' is not an absolute http or https URL, such as http://127.0.0.1:5080", result.Error.Trim());
    }

    [Fact]
    public async Task An_unreachable_server_is_one_line_and_exit_code_1()
    {
        var result = await Cli.RunAsync($"http://127.0.0.1:{FakeServer.FreePort()}", "entities", "list");

        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: cannot reach http://127.0.0.1:", line);
        Assert.Contains("Connection refused", line);
    }

    [Fact]
    public async Task A_bad_CSV_header_fails_before_sending_anything()
    {
        var file = fixture.File("bad-header.csv");
        await File.WriteAllTextAsync(file, "id,entity,type,when\nx,acme,outage,2025-03-10T14:00:00Z\n");

        var result = await Cli.RunAsync(fixture.Url, "ingest", file);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"error: {file}: unknown CSV column 'when'; expected id, entity, type, occurredAt, region, confidence, source or data.NAME", result.Error);
    }

    [Fact]
    public async Task Help_is_printed_to_standard_output()
    {
        var result = await Cli.RunAsync(fixture.Url, "ingest", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("--batch-size", result.Out);
        Assert.Contains("--api-key", result.Out);
        Assert.Equal("", result.Error);
    }
}
