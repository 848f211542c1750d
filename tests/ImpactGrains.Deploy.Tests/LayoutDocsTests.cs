namespace ImpactGrains.Deploy.Tests;

/// <summary>
/// A newcomer finds the parts of the system from docs/architecture.md's layout table: every project, every top folder
/// of the server and the grains, and every folder of tests/, bench/ and deploy-k8s/ must be named there, so that a
/// folder added without a line in the table fails the build instead of drifting out of the docs.
/// </summary>
public sealed class LayoutDocsTests
{
    private static readonly string[] NotParts = ["bin", "obj", "data", "node_modules", "wwwroot", "TestResults"];

    [Fact]
    public void Every_project_and_folder_is_named_in_the_architecture_layout()
    {
        var architecture = Repository.Read("docs", "architecture.md");
        var start = architecture.IndexOf("\n## Project layout", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/architecture.md has no Project layout section");
        var end = architecture.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var layout = end < 0 ? architecture[start..] : architecture[start..end];

        var missing = new List<string>();
        foreach (var folder in new[] { "src", "tests", "bench", "deploy-k8s", "src/ImpactGrains.Server", "src/ImpactGrains.Grains", "src/ImpactGrains.Scoring", "src/ImpactGrains.Storage" })
        {
            foreach (var directory in Directory.EnumerateDirectories(Repository.File(folder)))
            {
                var name = Path.GetFileName(directory);
                if (NotParts.Contains(name) || name.StartsWith('.'))
                {
                    continue;
                }

                // Named as a path, a folder or a project: `src/ImpactGrains.Cli`, `Live/`, `overlays/dev`, `Bench.Soak`.
                var shortName = name.StartsWith("ImpactGrains.", StringComparison.Ordinal) ? name["ImpactGrains.".Length..] : name;
                string[] names = [$"{folder}/{name}", $"`{name}/", $"`{name}`", $"`{shortName}`"];
                if (!names.Any(n => layout.Contains(n, StringComparison.Ordinal)))
                {
                    missing.Add($"{folder}/{name}");
                }
            }
        }

        Assert.True(missing.Count == 0, "docs/architecture.md (Project layout) does not name: " + string.Join(", ", missing));
    }
}
