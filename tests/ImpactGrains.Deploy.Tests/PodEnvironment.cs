using System.Text;
using System.Text.Json.Nodes;

namespace ImpactGrains.Deploy.Tests;

/// <summary>What a pod's values come from, faked for a run on loopback.</summary>
public sealed class PodFacts
{
    /// <summary>status.podIP, metadata.name, metadata.namespace and the like; metadata.labels[...] are read from the template.</summary>
    public required IReadOnlyDictionary<string, string> Fields { get; init; }

    /// <summary>(secret name, key) → value: what the operator's Secrets hold.</summary>
    public required IReadOnlyDictionary<(string Secret, string Key), string> Secrets { get; init; }
}

/// <summary>
/// A container's environment as Kubernetes builds it: the image's ENV, then envFrom (in order), then env (in order),
/// each later name replacing an earlier one; env values expand $(NAME) from what envFrom and earlier env entries
/// defined ($$ escapes), the way the kubelet does.
/// </summary>
public static class PodEnvironment
{
    public static Dictionary<string, string> Build(RenderedOverlay overlay, PodTemplate pod, JsonObject container, PodFacts facts,
        IReadOnlyDictionary<string, string> imageEnvironment)
    {
        var defined = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in container["envFrom"]?.AsArray() ?? [])
        {
            var prefix = (string?)source!["prefix"] ?? "";
            if (source["configMapRef"] is { } configMapRef)
            {
                foreach (var (key, value) in overlay.ConfigMapData((string)configMapRef["name"]!))
                {
                    defined[prefix + key] = value;
                }
            }
            else if (source["secretRef"] is { } secretRef)
            {
                var name = (string)secretRef["name"]!;
                foreach (var ((secret, key), value) in facts.Secrets)
                {
                    if (secret == name)
                    {
                        defined[prefix + key] = value;
                    }
                }
            }
        }

        foreach (var entry in container["env"]?.AsArray() ?? [])
        {
            var name = (string)entry!["name"]!;
            if (entry["value"] is { } value)
            {
                defined[name] = Expand((string)value!, defined);
            }
            else if (entry["valueFrom"]?["fieldRef"] is { } fieldRef)
            {
                defined[name] = Field((string)fieldRef["fieldPath"]!, pod, facts);
            }
            else if (entry["valueFrom"]?["secretKeyRef"] is { } secretKeyRef)
            {
                var key = ((string)secretKeyRef["name"]!, (string)secretKeyRef["key"]!);
                defined[name] = facts.Secrets.TryGetValue(key, out var secret)
                    ? secret
                    : throw new Xunit.Sdk.XunitException($"{pod}: {name} reads Secret {key.Item1} key {key.Item2}, which the test does not provide");
            }
            else if (entry["valueFrom"]?["configMapKeyRef"] is { } configMapKeyRef)
            {
                defined[name] = overlay.ConfigMapData((string)configMapKeyRef["name"]!)[(string)configMapKeyRef["key"]!];
            }
            else
            {
                defined[name] = "";
            }
        }

        var environment = new Dictionary<string, string>(imageEnvironment, StringComparer.Ordinal);
        foreach (var (key, value) in defined)
        {
            environment[key] = value;
        }

        return environment;
    }

    private static string Field(string path, PodTemplate pod, PodFacts facts)
    {
        const string labelPrefix = "metadata.labels['";
        if (path.StartsWith(labelPrefix, StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal))
        {
            var label = path[labelPrefix.Length..^2];
            return pod.Labels.TryGetValue(label, out var value) ? value : throw new Xunit.Sdk.XunitException($"{pod}: no label {label} for {path}");
        }

        return facts.Fields.TryGetValue(path, out var field) ? field : throw new Xunit.Sdk.XunitException($"{pod}: the test has no value for fieldRef {path}");
    }

    /// <summary>Kubernetes' $(NAME) expansion: defined names are replaced, $$ is a literal $, others stay as written.</summary>
    public static string Expand(string value, IReadOnlyDictionary<string, string> defined)
    {
        var result = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '$' && i + 1 < value.Length && value[i + 1] == '$')
            {
                result.Append('$');
                i++;
            }
            else if (value[i] == '$' && i + 1 < value.Length && value[i + 1] == '(' && value.IndexOf(')', i + 2) is var end and > 0)
            {
                var name = value[(i + 2)..end];
                result.Append(defined.TryGetValue(name, out var replacement) ? replacement : value[i..(end + 1)]);
                i = end;
            }
            else
            {
                result.Append(value[i]);
            }
        }

        return result.ToString();
    }
}
