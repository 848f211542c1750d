using System.Text.RegularExpressions;

namespace ImpactGrains.Deploy.Tests;

/// <summary>
/// An operator deploys from deploy-k8s/ and docs/operations.md alone: every ConfigMap value is explained there, and
/// no file that the manifests, the Dockerfile or the Kubernetes part of the docs names is missing.
/// </summary>
public sealed class DocsTests
{
    private static string KubernetesSection()
    {
        var operations = Repository.Read("docs", "operations.md");
        var start = operations.IndexOf("\n## Kubernetes", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/operations.md has no Kubernetes section");
        var end = operations.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? operations[start..] : operations[start..end];
    }

    [Fact]
    public async Task Every_ConfigMap_value_is_explained()
    {
        var section = KubernetesSection();
        var rendered = await Manifests.RenderAsync("production");
        foreach (var (key, value) in ManifestTests.ConfigOf(rendered, rendered.SiloContainer))
        {
            Assert.True(section.Contains($"`{key}`", StringComparison.Ordinal), $"docs/operations.md (Kubernetes) does not explain {key}");
            Assert.True(section.Contains($"`{value}`", StringComparison.Ordinal) || section.Contains(value, StringComparison.Ordinal),
                $"docs/operations.md (Kubernetes) does not give {key}'s value {value}");
        }

        foreach (var name in rendered.SiloContainer["env"]!.AsArray().Select(e => (string)e!["name"]!))
        {
            Assert.True(section.Contains($"`{name}", StringComparison.Ordinal), $"docs/operations.md (Kubernetes) does not explain {name}");
        }
    }

    [Fact]
    public void Every_file_the_deployment_refers_to_exists()
    {
        var sources = new List<(string Name, string Text)> { ("docs/operations.md (Kubernetes)", KubernetesSection()), ("Dockerfile", Repository.Read("Dockerfile")) };
        foreach (var file in Directory.EnumerateFiles(Repository.File("deploy-k8s"), "*", SearchOption.AllDirectories))
        {
            sources.Add((Path.GetRelativePath(Repository.Root, file), File.ReadAllText(file)));
        }

        var missing = new List<string>();
        foreach (var (name, text) in sources)
        {
            foreach (Match match in Regex.Matches(text, @"(?<![\w/.-])((?:deploy-k8s|docs|src|tests)/[\w./-]*[\w/])"))
            {
                var path = match.Groups[1].Value;
                if (!File.Exists(Repository.File(path)) && !Directory.Exists(Repository.File(path)))
                {
                    missing.Add($"{name} refers to {path}");
                }
            }

            // deploy-k8s/base/…'s own siblings, named without a folder (`horizontalpodautoscaler.yaml`, `config.env`).
            foreach (Match match in Regex.Matches(text, @"`([\w-]+\.(?:yaml|env))`"))
            {
                if (Directory.EnumerateFiles(Repository.File("deploy-k8s"), match.Groups[1].Value, SearchOption.AllDirectories).FirstOrDefault() is null)
                {
                    missing.Add($"{name} refers to {match.Groups[1].Value}");
                }
            }
        }

        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    [Fact]
    public void Every_kustomization_lists_only_files_that_exist()
    {
        foreach (var kustomization in Directory.EnumerateFiles(Repository.File("deploy-k8s"), "kustomization.yaml", SearchOption.AllDirectories))
        {
            var folder = Path.GetDirectoryName(kustomization)!;
            foreach (Match match in Regex.Matches(File.ReadAllText(kustomization), @"^\s+- ((?:\.\./)*[\w./-]+\.(?:yaml|env)|(?:\.\./)+[\w/-]+)$", RegexOptions.Multiline))
            {
                var path = Path.GetFullPath(Path.Combine(folder, match.Groups[1].Value));
                Assert.True(File.Exists(path) || Directory.Exists(path), $"{Path.GetRelativePath(Repository.Root, kustomization)} lists {match.Groups[1].Value}, which does not exist");
            }
        }
    }
}
