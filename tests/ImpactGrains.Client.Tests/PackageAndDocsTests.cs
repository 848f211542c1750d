using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ImpactGrains.Client.Tests;

/// <summary>The NuGet package, and the C# sample of docs/api.md as it is compiled here.</summary>
public sealed partial class PackageAndDocsTests
{
    [Fact]
    public async Task Dotnet_pack_gives_the_package_with_its_readme_license_docs_and_one_dependency()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var output = Path.Combine(Path.GetTempPath(), "impactgrains-pack", Guid.NewGuid().ToString("N"));
        try
        {
            var info = new ProcessStartInfo("dotnet", ["pack", Path.Combine(Repository.Root, "src", "ImpactGrains.Client"), "-c", configuration, "--no-build", "-o", output, "--nologo"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var pack = Process.Start(info)!;
            var log = pack.StandardOutput.ReadToEndAsync();
            var errors = pack.StandardError.ReadToEndAsync();
            await pack.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(5)).Token);
            Assert.True(pack.ExitCode == 0, $"dotnet pack failed:\n{await log}{await errors}");

            var package = Path.Combine(output, "ImpactGrains.Client.0.1.0.nupkg");
            Assert.True(File.Exists(package), string.Join(", ", Directory.GetFiles(output)));
            Assert.True(File.Exists(Path.Combine(output, "ImpactGrains.Client.0.1.0.snupkg")), "no symbol package");
            using var zip = ZipFile.OpenRead(package);
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", entries);
            Assert.Contains("lib/net10.0/ImpactGrains.Client.dll", entries);
            Assert.Contains("lib/net10.0/ImpactGrains.Client.xml", entries);

            XNamespace ns;
            XDocument nuspec;
            using (var stream = zip.GetEntry("ImpactGrains.Client.nuspec")!.Open())
            {
                nuspec = XDocument.Load(stream);
                ns = nuspec.Root!.GetDefaultNamespace();
            }

            var metadata = nuspec.Root!.Element(ns + "metadata")!;
            Assert.Equal("ImpactGrains.Client", metadata.Element(ns + "id")!.Value);
            var license = metadata.Element(ns + "license")!;
            Assert.Equal(("expression", "MIT"), (license.Attribute("type")!.Value, license.Value));
            Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
            var dependencies = metadata.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
            Assert.Equal(["Microsoft.Extensions.Http.Resilience"], dependencies);
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    [Fact]
    public void The_sample_in_docs_api_md_is_the_one_compiled_here()
    {
        var api = File.ReadAllText(Path.Combine(Repository.Root, "docs", "api.md"));
        var sample = File.ReadAllText(Path.Combine(Repository.Root, "tests", "ImpactGrains.Client.Tests", "DocsSample.cs"));
        var blocks = CSharpBlock().Matches(api).Select(m => m.Groups["code"].Value.Trim()).ToList();
        Assert.Contains(sample.Trim().ReplaceLineEndings("\n"), blocks.Select(b => b.ReplaceLineEndings("\n")));
    }

    [GeneratedRegex(@"```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}

/// <summary>The C# sample of docs/api.md run against a server with the demo.</summary>
[Collection(DemoServerCollection.Name)]
public sealed class DocsSampleTests(DemoServerFixture fixture)
{
    [Fact]
    public async Task The_sample_in_docs_api_md_runs_against_the_demo()
    {
        var output = new StringWriter();

        await DocsSample.RunAsync(fixture.Url, output);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("tesla ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("demo-", StringComparison.Ordinal) && l.Contains("points", StringComparison.Ordinal));
        Assert.Contains("acme: 25 accepted, 0 duplicates, 0 rejected", lines);
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^acme: score \d+\.\d\d \(direct \d+\.\d\d, inherited \d+\.\d\d\) from \d+ events$"));
        Assert.Contains("Unknown entity (HTTP 404): there is no entity 'nobody'", lines);
    }
}
