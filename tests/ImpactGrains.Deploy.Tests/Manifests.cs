using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace ImpactGrains.Deploy.Tests;

/// <summary>One rendered Kubernetes object, with what the offline validator found wrong with it.</summary>
public sealed record KubeObject(string ApiVersion, string Kind, string Name, string? Namespace, JsonObject Json, IReadOnlyList<string> Errors)
{
    public override string ToString() => $"{Kind}/{Name}";
}

/// <summary>A pod template of a workload (Deployment, StatefulSet, Job) and its owner.</summary>
public sealed record PodTemplate(KubeObject Owner, JsonObject Metadata, JsonObject Spec)
{
    public IEnumerable<JsonObject> Containers =>
        (Spec["initContainers"]?.AsArray() ?? []).Concat(Spec["containers"]?.AsArray() ?? []).Select(c => c!.AsObject());

    public IReadOnlyDictionary<string, string> Labels =>
        Metadata["labels"]?.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!) ?? new Dictionary<string, string>();

    public override string ToString() => Owner.ToString();
}

/// <summary>One overlay of deploy-k8s/ as `kubectl kustomize` renders it.</summary>
public sealed class RenderedOverlay(string name, string yaml, IReadOnlyList<KubeObject> objects)
{
    public string Name { get; } = name;

    public string Yaml { get; } = yaml;

    public IReadOnlyList<KubeObject> Objects { get; } = objects;

    public IEnumerable<KubeObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public KubeObject Get(string kind, string name) =>
        Objects.SingleOrDefault(o => o.Kind == kind && o.Name == name) ?? throw new Xunit.Sdk.XunitException($"{Name}: no {kind} {name} among {string.Join(", ", Objects)}");

    /// <summary>A generated object (ConfigMap, Secret) by the name before kustomize's content-hash suffix.</summary>
    public KubeObject? FindGenerated(string kind, string name) =>
        Objects.SingleOrDefault(o => o.Kind == kind && (o.Name == name || (o.Name.StartsWith(name + "-", StringComparison.Ordinal) && o.Name.Length == name.Length + 11)));

    public KubeObject Silos => Get("Deployment", "impactgrains");

    public KubeObject MigrationJob => Get("Job", "impactgrains-migrate");

    public PodTemplate SiloPod => Manifests.PodTemplateOf(Silos);

    public JsonObject SiloContainer => SiloPod.Containers.Single(c => (string?)c["name"] == "silo");

    public JsonObject MigrationContainer => Manifests.PodTemplateOf(MigrationJob).Containers.Single();

    public IEnumerable<PodTemplate> PodTemplates => Objects.Select(Manifests.TryPodTemplateOf).OfType<PodTemplate>();

    /// <summary>The data of the ConfigMap a container's envFrom names.</summary>
    public IReadOnlyDictionary<string, string> ConfigMapData(string name) =>
        Get("ConfigMap", name).Json["data"]?.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!) ?? new Dictionary<string, string>();

    public override string ToString() => Name;
}

/// <summary>
/// Renders deploy-k8s/overlays/* with `kubectl kustomize` (offline) and validates each object with
/// tests/ImpactGrains.Deploy.Tests/validator (kubernetes-models' schemas plus an unknown-field check), once per run.
/// </summary>
public static class Manifests
{
    public static readonly string[] Overlays = ["dev", "nats", "production"];

    private static readonly ConcurrentDictionary<string, Lazy<Task<RenderedOverlay>>> Rendered = new();
    private static readonly SemaphoreSlim NpmLock = new(1, 1);
    private static bool npmInstalled;

    public static string ValidatorDirectory => Repository.File("tests", "ImpactGrains.Deploy.Tests", "validator");

    public static Task<RenderedOverlay> RenderAsync(string overlay) =>
        Rendered.GetOrAdd(overlay, name => new Lazy<Task<RenderedOverlay>>(() => RenderNowAsync(name))).Value;

    private static async Task<RenderedOverlay> RenderNowAsync(string overlay)
    {
        if (!Tool.OnPath("kubectl"))
        {
            throw new InvalidOperationException("kubectl was not found on PATH: the deployment tests render deploy-k8s with `kubectl kustomize` (offline)");
        }

        var rendered = await Tool.RunAsync("kubectl", ["kustomize", Path.Combine("deploy-k8s", "overlays", overlay)], timeout: TimeSpan.FromMinutes(2));
        if (rendered.ExitCode != 0)
        {
            throw new Xunit.Sdk.XunitException($"kubectl kustomize deploy-k8s/overlays/{overlay} failed ({rendered.ExitCode}):\n{rendered.Output}");
        }

        var objects = await ValidateAsync(rendered.Stdout);
        return new RenderedOverlay(overlay, rendered.Stdout, objects);
    }

    /// <summary>Validates a YAML stream of objects; returns each with its errors (none when valid).</summary>
    public static async Task<IReadOnlyList<KubeObject>> ValidateAsync(string yaml)
    {
        await EnsureValidatorAsync();
        var file = Path.Combine(Path.GetTempPath(), $"impactgrains-manifests-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml);
        try
        {
            var result = await Tool.RunAsync("node", ["validate.mjs", file], ValidatorDirectory, TimeSpan.FromMinutes(2));
            if (result.ExitCode is not (0 or 1))
            {
                throw new Xunit.Sdk.XunitException($"the validator failed ({result.ExitCode}):\n{result.Output}");
            }

            var report = JsonNode.Parse(result.Stdout)!.AsObject();
            return report["objects"]!.AsArray().Select(o => new KubeObject(
                (string?)o!["apiVersion"] ?? "",
                (string?)o["kind"] ?? "",
                (string?)o["name"] ?? "",
                (string?)o["namespace"],
                o["object"]!.AsObject(),
                o["errors"]!.AsArray().Select(e => (string)e!).ToList())).ToList();
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>`npm ci` in validator/ when its node_modules is missing or older than the lock file.</summary>
    private static async Task EnsureValidatorAsync()
    {
        await NpmLock.WaitAsync();
        try
        {
            if (npmInstalled)
            {
                return;
            }

            var stamp = Path.Combine(ValidatorDirectory, "node_modules", ".package-lock.json");
            var lockFile = Path.Combine(ValidatorDirectory, "package-lock.json");
            if (!File.Exists(stamp) || File.GetLastWriteTimeUtc(stamp) < File.GetLastWriteTimeUtc(lockFile))
            {
                if (!Tool.OnPath("npm"))
                {
                    throw new InvalidOperationException("npm was not found on PATH: the deployment tests validate manifests with the npm package kubernetes-models");
                }

                var install = await Tool.RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], ValidatorDirectory, TimeSpan.FromMinutes(5));
                if (install.ExitCode != 0)
                {
                    throw new InvalidOperationException($"npm ci in {ValidatorDirectory} failed ({install.ExitCode}):\n{install.Output}");
                }

                File.SetLastWriteTimeUtc(stamp, DateTime.UtcNow);
            }

            npmInstalled = true;
        }
        finally
        {
            NpmLock.Release();
        }
    }

    public static PodTemplate? TryPodTemplateOf(KubeObject workload)
    {
        var template = workload.Kind switch
        {
            "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "Job" => workload.Json["spec"]?["template"],
            "CronJob" => workload.Json["spec"]?["jobTemplate"]?["spec"]?["template"],
            "Pod" => workload.Json,
            _ => null,
        };
        return template is null ? null : new PodTemplate(workload, template["metadata"]?.AsObject() ?? [], template["spec"]!.AsObject());
    }

    public static PodTemplate PodTemplateOf(KubeObject workload) =>
        TryPodTemplateOf(workload) ?? throw new Xunit.Sdk.XunitException($"{workload} has no pod template");

    /// <summary>Whether a label selector (matchLabels and matchExpressions, or a Service's plain map) selects these labels.</summary>
    public static bool Selects(JsonNode? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is null)
        {
            return false;
        }

        var selectorObject = selector.AsObject();
        if (!selectorObject.ContainsKey("matchLabels") && !selectorObject.ContainsKey("matchExpressions"))
        {
            // A Service's selector: a plain map.
            return selectorObject.All(p => labels.TryGetValue(p.Key, out var v) && v == (string?)p.Value);
        }

        var matchLabels = selectorObject["matchLabels"]?.AsObject() ?? [];
        if (!matchLabels.All(p => labels.TryGetValue(p.Key, out var v) && v == (string?)p.Value))
        {
            return false;
        }

        foreach (var expression in selectorObject["matchExpressions"]?.AsArray() ?? [])
        {
            var key = (string)expression!["key"]!;
            var values = expression["values"]?.AsArray().Select(v => (string)v!).ToHashSet() ?? [];
            var has = labels.TryGetValue(key, out var value);
            var ok = (string)expression["operator"]! switch
            {
                "In" => has && values.Contains(value!),
                "NotIn" => !has || !values.Contains(value!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
