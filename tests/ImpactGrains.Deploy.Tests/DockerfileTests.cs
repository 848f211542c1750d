using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ImpactGrains.Deploy.Tests;

/// <summary>
/// The Dockerfile cannot be built on our machines (no Docker engine). What can be checked offline is: its stages and
/// base images, that its restore layer has every project and import the server needs, that the build stage has what
/// the viewer's bundling needs, and that its user, ports and entrypoint are what the manifests expect.
/// (ServerFromManifestsTests runs the published output with that entrypoint.)
/// </summary>
public sealed class DockerfileTests
{
    private readonly Dockerfile dockerfile = Dockerfile.Load();

    [Fact]
    public void Multi_stage_from_the_sdk_to_a_small_aspnet_runtime()
    {
        Assert.True(dockerfile.Stages.Count >= 2);
        var build = dockerfile.Stages[0];
        var framework = XDocument.Load(Repository.File("Directory.Build.props")).Descendants("TargetFramework").Single().Value;
        var version = framework.Replace("net", "", StringComparison.Ordinal);
        Assert.StartsWith($"mcr.microsoft.com/dotnet/sdk:{version}", build.Image);
        Assert.StartsWith($"mcr.microsoft.com/dotnet/aspnet:{version}", dockerfile.Final.Image);
        Assert.Contains(dockerfile.Final.All("COPY"), c => c.StartsWith($"--from={build.Name} /app", StringComparison.Ordinal));
        Assert.Equal("/app", dockerfile.Final.Last("WORKDIR"));

        var publish = Assert.Single(build.All("RUN"), r => r.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.Contains("src/ImpactGrains.Server/ImpactGrains.Server.csproj", publish);
        Assert.Contains("-c Release", publish);
        Assert.Contains("-o /app", publish);
    }

    [Fact]
    public void Runs_as_a_numeric_non_root_user_with_the_manifests_ports_and_entrypoint()
    {
        var user = dockerfile.Final.Last("USER");
        Assert.True(int.TryParse(user, out var uid) && uid > 0, $"USER {user}: a numeric non-root user lets the kubelet verify runAsNonRoot");

        var exposed = dockerfile.Final.All("EXPOSE").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        Assert.Superset(new HashSet<string> { "8080", "11111", "30000" }, exposed);
        Assert.Subset(new HashSet<string> { "8080", "11111", "30000" }, exposed);

        var assemblyName = XDocument.Load(Repository.File("src", "ImpactGrains.Server", "ImpactGrains.Server.csproj")).Descendants("AssemblyName").Single().Value;
        Assert.Equal(["dotnet", $"{assemblyName}.dll"], dockerfile.Entrypoint());
        Assert.Null(dockerfile.Final.Last("CMD"));

        // HTTP on 8080 on every interface, as an explicit URL (the dashboard's login rules read it).
        var environment = dockerfile.FinalEnvironment();
        Assert.Equal("http://0.0.0.0:8080", environment["ASPNETCORE_URLS"]);
    }

    [Fact]
    public void The_restore_layer_has_every_project_and_import_of_the_server()
    {
        var copied = dockerfile.Stages[0].All("COPY").Select(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).ToHashSet();
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.Contains(dockerfile.Stages[0].All("COPY"), c => c.Split(' ').Contains(file));
        }

        var pending = new Queue<string>([Repository.File("src", "ImpactGrains.Server", "ImpactGrains.Server.csproj")]);
        var seen = new HashSet<string>();
        while (pending.TryDequeue(out var project))
        {
            if (!seen.Add(project))
            {
                continue;
            }

            var relative = Path.GetRelativePath(Repository.Root, project).Replace('\\', '/');
            Assert.True(copied.Contains(relative), $"the Dockerfile's restore layer does not copy {relative}");
            var document = XDocument.Load(project);
            foreach (var import in document.Descendants("Import").Select(i => i.Attribute("Project")!.Value))
            {
                var path = Path.GetRelativePath(Repository.Root, Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, import))).Replace('\\', '/');
                Assert.True(copied.Contains(path), $"the Dockerfile's restore layer does not copy {path}, which {relative} imports");
            }

            foreach (var reference in document.Descendants("ProjectReference").Select(r => r.Attribute("Include")!.Value.Replace('\\', '/')))
            {
                pending.Enqueue(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, reference)));
            }
        }
    }

    [Fact]
    public void The_build_stage_has_node_and_npm_when_the_server_bundles_the_viewer()
    {
        var server = Repository.Read("src", "ImpactGrains.Server", "ImpactGrains.Server.csproj");
        var viewer = Repository.Read("src", "ImpactGrains.Viewer", "ImpactGrains.Viewer.csproj");
        if (!server.Contains("ImpactGrains.Viewer.csproj", StringComparison.Ordinal) || !viewer.Contains("Viewer.targets", StringComparison.Ordinal))
        {
            return;
        }

        var installs = string.Join("\n", dockerfile.Stages[0].All("RUN"));
        Assert.Matches(new Regex(@"apt-get install[^\n]*\bnodejs\b"), installs);
        Assert.Matches(new Regex(@"apt-get install[^\n]*\bnpm\b"), installs);
        Assert.DoesNotContain("ImpactViewerBuild=false", installs);
    }

    [Fact]
    public void The_build_context_leaves_out_outputs_and_installed_packages()
    {
        var ignore = Repository.Read(".dockerignore").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Contains("**/bin/", ignore);
        Assert.Contains("**/obj/", ignore);
        Assert.Contains("**/node_modules/", ignore);
        Assert.Contains("!src/", ignore);
        foreach (var copied in dockerfile.Stages[0].All("COPY").Select(c => c.Split(' ')[0]).Where(c => !c.StartsWith("--", StringComparison.Ordinal)))
        {
            Assert.True(File.Exists(Repository.File(copied)) || Directory.Exists(Repository.File(copied)), $"COPY {copied}: no such file");
        }
    }
}
