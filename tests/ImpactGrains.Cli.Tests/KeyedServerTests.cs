namespace ImpactGrains.Cli.Tests;

/// <summary>The CLI against a server that wants API keys: the key from $IMPACT_API_KEY or --api-key, and one-line refusals.</summary>
public sealed class KeyedServerTests : IAsyncLifetime
{
    private ServerProcess server = null!;

    private string Url => $"http://127.0.0.1:{server.HttpPort}";

    public async Task InitializeAsync() => server = await ServerProcess.StartAsync(demo: true, extraArgs: TestApiKeys.ServerArgs);

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Fact]
    public async Task Without_a_key_the_refusal_is_one_line_and_exit_code_1()
    {
        var result = await Cli.RunAsync(Url, "entities", "list");
        AssertOneLineRefusal(result, "401", "X-Api-Key");
    }

    [Fact]
    public async Task A_key_without_the_role_is_a_one_line_403()
    {
        var result = await Cli.RunAsync(Url, CancellationToken.None, new Dictionary<string, string> { ["IMPACT_API_KEY"] = TestApiKeys.Reader },
            "entities", "put", "cli-keyed", "--name", "Keyed", "--kind", "company");
        AssertOneLineRefusal(result, "403", "needs 'admin'");
    }

    [Fact]
    public async Task The_key_comes_from_the_environment_or_the_option()
    {
        var fromEnvironment = await Cli.RunAsync(Url, CancellationToken.None, new Dictionary<string, string> { ["IMPACT_API_KEY"] = TestApiKeys.Reader }, "entities", "list");
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());
        Assert.Contains("tesla", fromEnvironment.Out, StringComparison.Ordinal);

        var fromOption = await Cli.RunAsync(Url, "show", "tesla", "--api-key", TestApiKeys.Reader);
        Assert.True(fromOption.ExitCode == 0, fromOption.ToString());
    }

    /// <summary>The CLI's refusal: exit code 1 and one line on stderr naming the status and what to do.</summary>
    private static void AssertOneLineRefusal(CliResult result, params string[] expected)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        foreach (var text in expected)
        {
            Assert.Contains(text, line, StringComparison.Ordinal);
        }
    }
}
