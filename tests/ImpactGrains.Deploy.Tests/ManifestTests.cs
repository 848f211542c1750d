using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ImpactGrains.Deploy.Tests;

/// <summary>
/// Every overlay of deploy-k8s/, rendered by `kubectl kustomize` and validated offline, keeps the invariants an
/// operator relies on: probes and resources, versioned images, ports that match the server's configuration, the
/// downward API, no RBAC beyond need, non-root read-only pods, a grace period longer than the shutdown timeout,
/// rollouts that never lose a ready silo, and references that resolve.
/// </summary>
public sealed class ManifestTests
{
    public static TheoryData<string> Overlays => new(Manifests.Overlays);

    private const string Image = "ghcr.io/impactgrains/impactgrains";

    [Fact]
    public void Every_overlay_folder_is_tested()
    {
        var folders = Directory.GetDirectories(Repository.File("deploy-k8s", "overlays")).Select(Path.GetFileName).Order();
        Assert.Equal(Manifests.Overlays.Order(), folders);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Renders_and_every_object_passes_the_schema_and_the_unknown_field_check(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var errors = rendered.Objects.SelectMany(o => o.Errors.Select(e => $"{o}: {e}")).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));

        foreach (var (kind, name) in new[]
                 {
                     ("ServiceAccount", "impactgrains"), ("Deployment", "impactgrains"), ("Service", "impactgrains"),
                     ("Service", "impactgrains-silo"), ("PodDisruptionBudget", "impactgrains"), ("HorizontalPodAutoscaler", "impactgrains"),
                     ("NetworkPolicy", "impactgrains-silo"), ("NetworkPolicy", "impactgrains-http"), ("Job", "impactgrains-migrate"),
                     ("Ingress", "impactgrains"), ("Ingress", "impactgrains-stream"),
                 })
        {
            rendered.Get(kind, name);
        }

        Assert.NotNull(rendered.FindGenerated("ConfigMap", "impactgrains-config"));
        var names = rendered.Objects.Select(o => $"{o.Kind}/{o.Namespace}/{o.Name}").ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal("autoscaling/v2", rendered.Get("HorizontalPodAutoscaler", "impactgrains").ApiVersion);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_namespaced_object_lands_in_the_overlays_namespace(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var expected = overlay == "dev" ? "impactgrains-dev" : "impactgrains"; // nats is production plus the feed
        foreach (var o in rendered.Objects.Where(o => o.Kind is not ("Namespace" or "ClusterRole" or "ClusterRoleBinding")))
        {
            Assert.True(o.Namespace == expected, $"{o} is in namespace '{o.Namespace}', not {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_container_has_probes_and_resources(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        foreach (var pod in rendered.PodTemplates)
        {
            foreach (var container in pod.Containers)
            {
                var where = $"{pod} container {container["name"]}";
                var resources = container["resources"];
                Assert.True(resources?["requests"]?["cpu"] is not null, $"{where}: no CPU request");
                Assert.True(resources?["requests"]?["memory"] is not null, $"{where}: no memory request");
                Assert.True(resources?["limits"]?["memory"] is not null, $"{where}: no memory limit");

                // Long-running containers are probed; a Job's container runs to completion and needs none.
                if (pod.Owner.Kind is "Deployment" or "StatefulSet" or "DaemonSet")
                {
                    foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
                    {
                        Assert.True(container[probe] is JsonObject, $"{where}: no {probe}");
                    }
                }
            }
        }

        // Orleans' guidance: a CPU request, no CPU limit (throttled silos miss membership probes and are voted dead).
        Assert.Null(rendered.SiloContainer["resources"]!["limits"]?["cpu"]);
        var probes = rendered.SiloContainer;
        Assert.Equal("/health/ready", (string?)probes["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/health/live", (string?)probes["livenessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/health/live", (string?)probes["startupProbe"]!["httpGet"]!["path"]);
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            Assert.Equal("http", (string?)probes[probe]!["httpGet"]!["port"]);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Images_are_versioned_never_latest(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        foreach (var pod in rendered.PodTemplates)
        {
            foreach (var container in pod.Containers)
            {
                var image = (string)container["image"]!;
                var (tag, digest) = TagAndDigest(image);
                Assert.True(tag is not null || digest is not null, $"{pod}: image '{image}' has neither a tag nor a digest");
                Assert.True(digest is not null || tag != "latest", $"{pod}: image '{image}' uses latest");
            }
        }

        // The migration Job migrates to the schema of exactly the release the silos run.
        var siloImage = (string)rendered.SiloContainer["image"]!;
        Assert.StartsWith(Image + ":", siloImage);
        Assert.Equal(siloImage, (string)rendered.MigrationContainer["image"]!);
    }

    /// <summary>An image reference's tag (after the last ':' of the last path segment) and digest (after '@').</summary>
    internal static (string? Tag, string? Digest) TagAndDigest(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        var digest = at >= 0 ? image[(at + 1)..] : null;
        var name = at >= 0 ? image[..at] : image;
        var colon = name.LastIndexOf(':');
        var tag = colon > name.LastIndexOf('/') ? name[(colon + 1)..] : null;
        return (string.IsNullOrEmpty(tag) ? null : tag, digest is not null && Regex.IsMatch(digest, "^sha256:[0-9a-f]{64}$") ? digest : null);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Silo_ports_match_the_servers_configuration(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var container = rendered.SiloContainer;
        var config = ConfigOf(rendered, container);
        var ports = container["ports"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => (int)p!["containerPort"]!);

        // The configuration keys the server reads, at the defaults the README documents.
        Assert.Equal(ReadmeDefault("Orleans:SiloPort"), config["Orleans__SiloPort"]);
        Assert.Equal(ReadmeDefault("Orleans:GatewayPort"), config["Orleans__GatewayPort"]);
        Assert.Equal(int.Parse(config["Orleans__SiloPort"], CultureInfo.InvariantCulture), ports["silo"]);
        Assert.Equal(int.Parse(config["Orleans__GatewayPort"], CultureInfo.InvariantCulture), ports["gateway"]);
        Assert.Equal(new Uri(config["ASPNETCORE_URLS"]).Port, ports["http"]);
        Assert.Equal("0.0.0.0", new Uri(config["ASPNETCORE_URLS"]).Host);

        // The Services point at those ports by name.
        var http = rendered.Get("Service", "impactgrains").Json["spec"]!;
        Assert.Equal(["http"], http["ports"]!.AsArray().Select(p => (string)p!["targetPort"]!));
        var silo = rendered.Get("Service", "impactgrains-silo").Json["spec"]!;
        Assert.Equal("None", (string?)silo["clusterIP"]);
        Assert.Equal(["silo", "gateway"], silo["ports"]!.AsArray().Select(p => (string)p!["targetPort"]!));
        Assert.Equal([ports["silo"], ports["gateway"]], silo["ports"]!.AsArray().Select(p => (int)p!["port"]!));

        // Prometheus' pod annotations name the HTTP port and the server's metrics path.
        var annotations = rendered.SiloPod.Metadata["annotations"]!;
        Assert.Equal(ports["http"].ToString(CultureInfo.InvariantCulture), (string?)annotations["prometheus.io/port"]);
        Assert.Equal("/metrics", (string?)annotations["prometheus.io/path"]);

        // The image exposes them.
        var exposed = Dockerfile.Load().Final.All("EXPOSE").SelectMany(a => a.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => int.Parse(p.Split('/')[0], CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Superset(exposed, ports.Values.ToHashSet());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Downward_api_variables_are_set_and_mapped_onto_the_configuration(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var pod = rendered.SiloPod;
        var env = rendered.SiloContainer["env"]!.AsArray().Select(e => e!.AsObject()).ToList();
        var names = env.Select(e => (string)e["name"]!).ToList();

        string FieldPath(string name) => (string)env.Single(e => (string)e["name"]! == name)["valueFrom"]!["fieldRef"]!["fieldPath"]!;
        Assert.Equal("metadata.name", FieldPath("POD_NAME"));
        Assert.Equal("metadata.namespace", FieldPath("POD_NAMESPACE"));
        Assert.Equal("status.podIP", FieldPath("POD_IP"));
        Assert.Equal("metadata.labels['orleans/serviceId']", FieldPath("ORLEANS_SERVICE_ID"));
        Assert.Equal("metadata.labels['orleans/clusterId']", FieldPath("ORLEANS_CLUSTER_ID"));
        Assert.False(string.IsNullOrEmpty(pod.Labels.GetValueOrDefault("orleans/serviceId")));
        Assert.False(string.IsNullOrEmpty(pod.Labels.GetValueOrDefault("orleans/clusterId")));

        // Mapped onto the server's keys; Kubernetes expands $(NAME) only from variables defined before.
        foreach (var (key, source) in new[] { ("Orleans__AdvertisedIP", "POD_IP"), ("Orleans__ServiceId", "ORLEANS_SERVICE_ID"), ("Orleans__ClusterId", "ORLEANS_CLUSTER_ID") })
        {
            var entry = env.Single(e => (string)e["name"]! == key);
            Assert.Equal($"$({source})", (string?)entry["value"]);
            Assert.True(names.IndexOf(source) < names.IndexOf(key), $"{source} must be defined before {key}");
        }

        // Nothing from a ConfigMap overrides them.
        var config = ConfigOf(rendered, rendered.SiloContainer);
        Assert.DoesNotContain(config.Keys, k => k is "Orleans__AdvertisedIP" or "Orleans__ServiceId" or "Orleans__ClusterId");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Rbac_is_sufficient_and_no_wider_than_needed(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var roles = rendered.Objects.Where(o => o.Kind is "Role" or "ClusterRole").ToList();
        var bindings = rendered.Objects.Where(o => o.Kind is "RoleBinding" or "ClusterRoleBinding").ToList();
        Assert.DoesNotContain(rendered.Objects, o => o.Kind is "ClusterRole" or "ClusterRoleBinding");

        var usesKubernetesHosting = Repository.Read("src", "ImpactGrains.Server", "ImpactGrains.Server.csproj").Contains("Microsoft.Orleans.Hosting.Kubernetes", StringComparison.Ordinal);
        var serviceAccount = rendered.Get("ServiceAccount", "impactgrains");
        if (!usesKubernetesHosting)
        {
            // Membership is in PostgreSQL and the endpoints come from the downward API: nothing calls the Kubernetes API,
            // so no Role, and no token in any pod.
            Assert.Empty(roles);
            Assert.Empty(bindings);
            Assert.Equal(false, (bool?)serviceAccount.Json["automountServiceAccountToken"]);
            foreach (var pod in rendered.PodTemplates)
            {
                Assert.True((bool?)pod.Spec["automountServiceAccountToken"] == false, $"{pod} mounts a service account token it does not need");
            }

            return;
        }

        // Microsoft.Orleans.Hosting.Kubernetes watches and labels its pods (and deletes pods of dead silos if enabled).
        var role = Assert.Single(roles);
        var rules = role.Json["rules"]!.AsArray();
        var rule = Assert.Single(rules)!;
        Assert.Equal([""], rule["apiGroups"]!.AsArray().Select(g => (string)g!));
        Assert.Equal(["pods"], rule["resources"]!.AsArray().Select(r => (string)r!));
        var verbs = rule["verbs"]!.AsArray().Select(v => (string)v!).ToHashSet();
        Assert.Superset(verbs, new HashSet<string> { "get", "list", "watch", "patch" });
        Assert.Subset(new HashSet<string> { "get", "list", "watch", "patch", "delete" }, verbs);
        Assert.True((bool?)rendered.SiloPod.Spec["automountServiceAccountToken"] != false, "the silos need their token for the Kubernetes API");
        var binding = Assert.Single(bindings);
        Assert.Equal(role.Name, (string?)binding.Json["roleRef"]!["name"]);
        Assert.Contains(binding.Json["subjects"]!.AsArray(), s => (string?)s!["name"] == serviceAccount.Name);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Pods_run_as_non_root_on_a_read_only_root_filesystem(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        foreach (var pod in rendered.PodTemplates)
        {
            var podSecurity = pod.Spec["securityContext"];
            Assert.Equal("RuntimeDefault", (string?)podSecurity?["seccompProfile"]?["type"]);
            Assert.NotEqual(true, (bool?)pod.Spec["hostNetwork"]);
            foreach (var container in pod.Containers)
            {
                var where = $"{pod} container {container["name"]}";
                var security = container["securityContext"];
                Assert.True(((bool?)security?["runAsNonRoot"] ?? (bool?)podSecurity?["runAsNonRoot"]) == true, $"{where}: runAsNonRoot is not set");
                var user = (long?)security?["runAsUser"] ?? (long?)podSecurity?["runAsUser"];
                Assert.True(user is > 0, $"{where}: runAsUser must be a numeric non-root user, so that the kubelet can check runAsNonRoot");
                Assert.True((bool?)security?["readOnlyRootFilesystem"] == true, $"{where}: the root filesystem is writable");
                Assert.True((bool?)security?["allowPrivilegeEscalation"] == false, $"{where}: allowPrivilegeEscalation is not false");
                Assert.Equal(["ALL"], security?["capabilities"]?["drop"]?.AsArray().Select(c => (string)c!) ?? []);
                Assert.Null(security?["capabilities"]?["add"]);
                Assert.NotEqual(true, (bool?)security?["privileged"]);
            }
        }

        // The .NET runtime's temporary files and diagnostic sockets go to /tmp: a writable emptyDir.
        foreach (var pod in new[] { rendered.SiloPod, Manifests.PodTemplateOf(rendered.MigrationJob) })
        {
            var mount = pod.Containers.Single()["volumeMounts"]!.AsArray().Single(m => (string?)m!["mountPath"] == "/tmp")!;
            var volume = pod.Spec["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)mount["name"])!;
            Assert.NotNull(volume["emptyDir"]);

            // HOME too (ASP.NET Core keeps its data-protection keys under it).
            var home = pod.Containers.Single()["env"]!.AsArray().Single(e => (string?)e!["name"] == "HOME")!;
            Assert.Equal("/tmp", (string?)home["value"]);
        }

        // The image runs as the same numeric user.
        var imageUser = long.Parse(Dockerfile.Load().Final.Last("USER")!, CultureInfo.InvariantCulture);
        Assert.Equal(imageUser, (long?)rendered.SiloPod.Spec["securityContext"]!["runAsUser"]);
        Assert.Equal(imageUser, (long?)Manifests.PodTemplateOf(rendered.MigrationJob).Spec["securityContext"]!["runAsUser"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Termination_grace_period_outlasts_the_shutdown_timeout(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var config = ConfigOf(rendered, rendered.SiloContainer);
        var shutdown = TimeSpan.Parse(config["Impact__ShutdownTimeout"], CultureInfo.InvariantCulture);
        var grace = TimeSpan.FromSeconds((int)rendered.SiloPod.Spec["terminationGracePeriodSeconds"]!);
        Assert.True(grace >= shutdown + TimeSpan.FromSeconds(10), $"terminationGracePeriodSeconds {grace.TotalSeconds} must exceed Impact__ShutdownTimeout {shutdown} with room to spare");

        // The drain is the server's own SIGTERM handling: no preStop hook, no custom stop signal.
        Assert.Null(rendered.SiloContainer["lifecycle"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Rollouts_and_disruptions_never_take_more_than_one_silo(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var spec = rendered.Silos.Json["spec"]!;
        Assert.Equal("RollingUpdate", (string?)spec["strategy"]!["type"]);
        Assert.Equal("0", spec["strategy"]!["rollingUpdate"]!["maxUnavailable"]!.ToJsonString().Trim('"').TrimEnd('%'));
        Assert.True(spec["replicas"] is null, "the HorizontalPodAutoscaler owns the replica count; spec.replicas would reset it on every apply");
        Assert.True(Manifests.Selects(spec["selector"], rendered.SiloPod.Labels));

        var hpa = rendered.Get("HorizontalPodAutoscaler", "impactgrains").Json["spec"]!;
        Assert.Equal("Deployment", (string?)hpa["scaleTargetRef"]!["kind"]);
        Assert.Equal(rendered.Silos.Name, (string?)hpa["scaleTargetRef"]!["name"]);
        Assert.True((int)hpa["minReplicas"]! >= 2, "fewer than two silos leave nothing to fail over to");
        Assert.True((int)hpa["maxReplicas"]! >= (int)hpa["minReplicas"]!);
        var cpu = hpa["metrics"]!.AsArray().Single(m => (string?)m!["type"] == "Resource" && (string?)m["resource"]!["name"] == "cpu")!;
        Assert.Equal("Utilization", (string?)cpu["resource"]!["target"]!["type"]);
        Assert.NotNull(rendered.SiloContainer["resources"]!["requests"]!["cpu"]);

        var pdb = rendered.Get("PodDisruptionBudget", "impactgrains").Json["spec"]!;
        Assert.True(Manifests.Selects(pdb["selector"], rendered.SiloPod.Labels));
        Assert.Equal(1, (int?)pdb["maxUnavailable"]);
        Assert.False(Manifests.Selects(pdb["selector"], Manifests.PodTemplateOf(rendered.MigrationJob).Labels));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Services_and_network_policies_select_the_right_pods(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var silo = rendered.SiloPod.Labels;
        var migration = Manifests.PodTemplateOf(rendered.MigrationJob).Labels;
        foreach (var service in new[] { "impactgrains", "impactgrains-silo" })
        {
            var selector = rendered.Get("Service", service).Json["spec"]!["selector"];
            Assert.True(Manifests.Selects(selector, silo), $"Service {service} does not select the silos");
            Assert.False(Manifests.Selects(selector, migration), $"Service {service} selects the migration Job");
        }

        Assert.Equal(true, (bool?)rendered.Get("Service", "impactgrains-silo").Json["spec"]!["publishNotReadyAddresses"]);

        // Silo and gateway ports: only from pods with the silo labels.
        var config = ConfigOf(rendered, rendered.SiloContainer);
        var siloPolicy = rendered.Get("NetworkPolicy", "impactgrains-silo").Json["spec"]!;
        Assert.True(Manifests.Selects(siloPolicy["podSelector"], silo));
        Assert.Equal(["Ingress"], siloPolicy["policyTypes"]!.AsArray().Select(t => (string)t!));
        var rule = Assert.Single(siloPolicy["ingress"]!.AsArray())!;
        var from = Assert.Single(rule["from"]!.AsArray())!;
        Assert.Null(from["namespaceSelector"]);
        Assert.Null(from["ipBlock"]);
        Assert.True(Manifests.Selects(from["podSelector"], silo));
        Assert.False(Manifests.Selects(from["podSelector"], migration));
        Assert.Equal(
            new[] { config["Orleans__SiloPort"], config["Orleans__GatewayPort"] }.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).Order(),
            rule["ports"]!.AsArray().Select(p => (int)p!["port"]!).Order());

        // HTTP: port 8080 only, from the ingress (production) or anywhere (dev).
        var httpPolicy = rendered.Get("NetworkPolicy", "impactgrains-http").Json["spec"]!;
        Assert.True(Manifests.Selects(httpPolicy["podSelector"], silo));
        var httpRule = Assert.Single(httpPolicy["ingress"]!.AsArray())!;
        Assert.Equal([8080], httpRule["ports"]!.AsArray().Select(p => (int)p!["port"]!));
        if (overlay == "production")
        {
            var source = Assert.Single(httpRule["from"]!.AsArray())!;
            Assert.NotNull(source["namespaceSelector"]);
        }

        // No policy opens the silo ports to anything else.
        foreach (var policy in rendered.OfKind("NetworkPolicy").Where(p => p.Name != "impactgrains-silo"))
        {
            if (!Manifests.Selects(policy.Json["spec"]!["podSelector"], silo))
            {
                continue;
            }

            foreach (var ingress in policy.Json["spec"]!["ingress"]?.AsArray() ?? [])
            {
                var opened = ingress!["ports"]?.AsArray().Select(p => (int?)p!["port"]).ToList();
                Assert.True(opened is { Count: > 0 }, $"NetworkPolicy {policy.Name} opens every port of the silos");
                Assert.DoesNotContain(opened, p => p == 11111 || p == 30000);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Configuration_comes_from_the_ConfigMap_and_Secrets_under_the_readmes_keys(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var known = ReadmeKeys();
        foreach (var container in new[] { rendered.SiloContainer, rendered.MigrationContainer })
        {
            // The ConfigMap alone: the API keys' Secret is mounted as files (The_api_keys_are_mounted_whole_where_the_server_watches_them).
            var envFrom = Assert.Single(container["envFrom"]!.AsArray())!;
            var configMap = (string)envFrom["configMapRef"]!["name"]!;
            Assert.StartsWith("impactgrains-config-", configMap);
            rendered.Get("ConfigMap", configMap);

            var names = ConfigOf(rendered, container).Keys.Concat(container["env"]!.AsArray().Select(e => (string)e!["name"]!));
            foreach (var name in names)
            {
                // The downward API's variables, HOME, and OpenTelemetry's own (OTEL_EXPORTER_OTLP_ENDPOINT is in the README).
                if (name is "POD_NAME" or "POD_NAMESPACE" or "POD_IP" or "ORLEANS_SERVICE_ID" or "ORLEANS_CLUSTER_ID" or "HOME" || name.StartsWith("OTEL_", StringComparison.Ordinal))
                {
                    continue;
                }

                // A list's entries (Key__0, Key__1) are the list key.
                var key = name == "ASPNETCORE_URLS" ? "--urls" : Regex.Replace(name.Replace("__", ":", StringComparison.Ordinal), ":[0-9]+$", "");
                Assert.True(known.Contains(key) || key.StartsWith("Logging:", StringComparison.Ordinal) || known.Any(k => k.EndsWith(":*", StringComparison.Ordinal) && key.StartsWith(k[..^1], StringComparison.Ordinal)),
                    $"{name} ({key}) is not a configuration key the README documents: a misspelt key is silently ignored");
            }
        }

        // The connection string comes from a Secret, never from the ConfigMap.
        var env = rendered.SiloContainer["env"]!.AsArray();
        (string, string) SecretOf(string name) =>
            env.Single(e => (string)e!["name"]! == name)!["valueFrom"]!["secretKeyRef"] is { } reference
                ? ((string)reference["name"]!, (string)reference["key"]!)
                : throw new Xunit.Sdk.XunitException($"{name} is not from a Secret");
        var connection = SecretOf("ConnectionStrings__Postgres");
        var jobConnection = rendered.MigrationContainer["env"]!.AsArray().Single(e => (string)e!["name"]! == "ConnectionStrings__Postgres")!["valueFrom"]!["secretKeyRef"]!;
        Assert.Equal(connection, ((string)jobConnection["name"]!, (string)jobConnection["key"]!));

        var config = ConfigOf(rendered, rendered.SiloContainer);
        Assert.Equal("Postgres", config["Impact__Storage"]);
        Assert.DoesNotContain(config.Keys, k => k.Contains("Password", StringComparison.OrdinalIgnoreCase) || k.StartsWith("ConnectionStrings", StringComparison.Ordinal) ||
                                                k.StartsWith("Impact__Auth__Keys__", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Migration_job_runs_migrate_once_with_the_silos_configuration(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var job = rendered.MigrationJob.Json["spec"]!;
        var pod = Manifests.PodTemplateOf(rendered.MigrationJob);
        var container = rendered.MigrationContainer;
        Assert.Null(container["command"]);
        Assert.Equal(["migrate"], container["args"]!.AsArray().Select(a => (string)a!));
        Assert.Contains((string)pod.Spec["restartPolicy"]!, new[] { "Never", "OnFailure" });
        Assert.True((int?)job["backoffLimit"] is > 0 and < 10);
        Assert.NotNull(job["activeDeadlineSeconds"]);
        Assert.Equal(
            rendered.SiloContainer["envFrom"]!.ToJsonString(),
            container["envFrom"]!.ToJsonString());

        // The silos run the image's entrypoint with no arguments: the server.
        Assert.Null(rendered.SiloContainer["command"]);
        Assert.Null(rendered.SiloContainer["args"]);
        Assert.Equal("impactgrains", (string?)rendered.SiloPod.Spec["serviceAccountName"]);
        Assert.Equal("impactgrains", (string?)pod.Spec["serviceAccountName"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_ConfigMap_is_shipped_and_every_Secret_is_made_outside_and_documented(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var operations = Repository.Read("docs", "operations.md");
        foreach (var pod in rendered.PodTemplates)
        {
            foreach (var container in pod.Containers)
            {
                foreach (var source in container["envFrom"]?.AsArray() ?? [])
                {
                    if (source!["configMapRef"] is { } configMap)
                    {
                        rendered.Get("ConfigMap", (string)configMap["name"]!);
                    }

                    if (source["secretRef"] is { } secret)
                    {
                        // Made by the operator (production) or create-secrets.sh (dev), never shipped.
                        var name = (string)secret["name"]!;
                        Assert.True(rendered.OfKind("Secret").All(s => s.Name != name), $"{overlay} must not ship Secret {name}");
                        Assert.True(operations.Contains($"`{name}`", StringComparison.Ordinal), $"docs/operations.md does not name Secret {name}");
                    }
                }

                foreach (var volume in pod.Spec["volumes"]?.AsArray() ?? [])
                {
                    if (volume!["secret"]?["secretName"] is { } secretName)
                    {
                        var name = (string)secretName!;
                        Assert.True(rendered.OfKind("Secret").All(s => s.Name != name), $"{overlay} must not ship Secret {name}");
                        Assert.True(operations.Contains($"`{name}`", StringComparison.Ordinal), $"docs/operations.md does not name Secret {name}");
                    }
                }

                foreach (var entry in container["env"]?.AsArray() ?? [])
                {
                    if (entry!["valueFrom"]?["secretKeyRef"] is not { } reference)
                    {
                        continue;
                    }

                    var name = (string)reference["name"]!;
                    var key = (string)reference["key"]!;
                    Assert.True(rendered.OfKind("Secret").All(s => s.Name != name), $"{overlay} must not ship Secret {name}");
                    Assert.True(operations.Contains($"`{name}`", StringComparison.Ordinal), $"docs/operations.md does not name Secret {name}");
                    Assert.True(operations.Contains($"`{key}`", StringComparison.Ordinal), $"docs/operations.md does not name key {key} of Secret {name}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_api_keys_are_mounted_whole_where_the_server_watches_them(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var config = ConfigOf(rendered, rendered.SiloContainer);
        var directory = config["Impact__Auth__KeysDirectory"];

        // The Secret as a volume, every key of it, at the directory the server reads.
        var mount = rendered.SiloContainer["volumeMounts"]!.AsArray().Single(m => (string?)m!["mountPath"] == directory)!;
        Assert.Equal(true, (bool?)mount["readOnly"]);
        // With subPath the kubelet never updates the file: a rotated key would need a restart.
        Assert.Null(mount["subPath"]);
        Assert.Null(mount["subPathExpr"]);
        var volume = rendered.SiloPod.Spec["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)mount["name"])!;
        var secret = volume["secret"]!;
        Assert.Equal("impactgrains-api-keys", (string?)secret["secretName"]);
        Assert.Null(secret["items"]); // every key of the Secret: one added there appears as a file
        Assert.NotEqual(true, (bool?)secret["optional"]);

        // Readable by the pod (its user, or its fsGroup), by nobody else.
        var mode = (int?)secret["defaultMode"] ?? 420;
        var podSecurity = rendered.SiloPod.Spec["securityContext"]!;
        Assert.True((mode & 0b000_000_111) == 0, $"defaultMode {Convert.ToString(mode, 8)} lets others read the keys");
        Assert.True((mode & 0b000_100_000) != 0 && podSecurity["fsGroup"] is not null, "the pod's group must be able to read the keys");

        // Not through the environment, where they could only change with a restart; and not in the migration Job at all.
        foreach (var pod in rendered.PodTemplates)
        {
            foreach (var container in pod.Containers)
            {
                Assert.DoesNotContain(container["envFrom"]?.AsArray() ?? [], e => (string?)e!["secretRef"]?["name"] == "impactgrains-api-keys");
                Assert.DoesNotContain(container["env"]?.AsArray() ?? [], e => ((string?)e!["name"])!.StartsWith("Impact__Auth__Keys", StringComparison.Ordinal));
            }
        }

        Assert.DoesNotContain(Manifests.PodTemplateOf(rendered.MigrationJob).Spec["volumes"]?.AsArray() ?? [], v => v!["secret"] is not null);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_ingress_serves_the_api_and_the_live_stream_over_tls_with_the_streams_settings(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var ingresses = rendered.OfKind("Ingress").ToList();
        Assert.Equal(["impactgrains", "impactgrains-stream"], ingresses.Select(i => i.Name).Order());
        var service = rendered.Get("Service", "impactgrains").Json["spec"]!;
        var paths = new Dictionary<string, KubeObject>();
        foreach (var ingress in ingresses)
        {
            Assert.Equal("networking.k8s.io/v1", ingress.ApiVersion);
            var spec = ingress.Json["spec"]!;
            Assert.Equal("nginx", (string?)spec["ingressClassName"]);

            // TLS for every host it serves, from a Secret the operator (or create-secrets.sh) makes, never shipped.
            var tls = spec["tls"]!.AsArray();
            var covered = tls.SelectMany(t => t!["hosts"]!.AsArray().Select(h => (string)h!)).ToHashSet();
            foreach (var entry in tls)
            {
                var secret = (string)entry!["secretName"]!;
                Assert.Equal("impactgrains-tls", secret);
                Assert.DoesNotContain(rendered.OfKind("Secret"), s => s.Name == secret);
            }

            foreach (var rule in spec["rules"]!.AsArray())
            {
                var host = (string)rule!["host"]!;
                Assert.Contains(host, covered);
                Assert.Equal(overlay == "dev" ? "impactgrains.localtest.me" : "impactgrains.example.com", host);
                foreach (var path in rule["http"]!["paths"]!.AsArray())
                {
                    // To the HTTP Service's named port, which the silos' container exposes.
                    var backend = path!["backend"]!["service"]!;
                    Assert.Equal("impactgrains", (string?)backend["name"]);
                    Assert.Contains(service["ports"]!.AsArray(), p => (string?)p!["name"] == (string?)backend["port"]!["name"]);
                    paths[$"{path["pathType"]} {path["path"]}"] = ingress;
                }
            }
        }

        // Everything, and the stream with what a long-lived, event-by-event response needs.
        var all = paths["Prefix /"].Json["metadata"]!["annotations"]!;
        var stream = paths["Exact /api/stream"].Json["metadata"]!["annotations"]!;
        Assert.Equal("off", (string?)stream["nginx.ingress.kubernetes.io/proxy-buffering"]);
        Assert.True(int.Parse((string)stream["nginx.ingress.kubernetes.io/proxy-read-timeout"]!, CultureInfo.InvariantCulture) >= 3600);
        Assert.True(int.Parse((string)stream["nginx.ingress.kubernetes.io/proxy-send-timeout"]!, CultureInfo.InvariantCulture) >= 3600);
        foreach (var annotations in new[] { all, stream })
        {
            Assert.Equal("true", (string?)annotations["nginx.ingress.kubernetes.io/ssl-redirect"]);
        }

        // A batch as large as the server takes reaches the server (which answers a larger one with its own 413).
        var bodySize = (string)all["nginx.ingress.kubernetes.io/proxy-body-size"]!;
        Assert.EndsWith("m", bodySize);
        Assert.True(long.Parse(bodySize[..^1], CultureInfo.InvariantCulture) * 1024 * 1024 >= long.Parse(Regex.Match(ReadmeDefault("Impact:Ingestion:MaxBodyBytes"), "^[0-9]+").Value, CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Forwarded_headers_are_trusted_from_the_controllers_pod_network_only(string overlay)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        var config = ConfigOf(rendered, rendered.SiloContainer);
        Assert.DoesNotContain(config.Keys, k => k.StartsWith("Impact__Network__KnownProxies", StringComparison.Ordinal));
        var networks = config.Where(p => p.Key.StartsWith("Impact__Network__KnownNetworks", StringComparison.Ordinal)).Select(p => p.Value).ToList();
        Assert.NotEmpty(networks);
        foreach (var text in networks)
        {
            // A private range (pod networks are), never wider than a /8: trusting more would let anyone choose their address.
            var network = System.Net.IPNetwork.Parse(text);
            Assert.True(network.PrefixLength >= 8, $"{text} is wider than a /8");
            Assert.True(new[] { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7" }.Select(System.Net.IPNetwork.Parse)
                .Any(p => p.BaseAddress.AddressFamily == network.BaseAddress.AddressFamily && p.PrefixLength <= network.PrefixLength && p.Contains(network.BaseAddress)),
                $"{text} is not a private range");
        }

        if (overlay == "production")
        {
            // Within that network only the ingress controller's namespace (and Prometheus') reaches the HTTP port, so no
            // other pod can forge X-Forwarded-For; the Ingresses' class is that controller's.
            var from = Assert.Single(rendered.Get("NetworkPolicy", "impactgrains-http").Json["spec"]!["ingress"]!.AsArray())!["from"]!.AsArray();
            var source = Assert.Single(from)!;
            Assert.Null(source["ipBlock"]);
            Assert.Null(source["podSelector"]);
            var namespaces = source["namespaceSelector"]!["matchExpressions"]![0]!["values"]!.AsArray().Select(v => (string)v!).ToList();
            Assert.Contains("ingress-nginx", namespaces);
            Assert.Equal(["ingress-nginx", "monitoring"], namespaces.Order());
        }
    }

    [Theory]
    [InlineData("production", "false")]
    [InlineData("dev", "true")]
    public async Task Production_runs_without_the_orleans_dashboard_and_dev_with_it(string overlay, string enabled)
    {
        var rendered = await Manifests.RenderAsync(overlay);
        Assert.Equal(enabled, ConfigOf(rendered, rendered.SiloContainer)["Impact__Dashboard__Enabled"]);
    }

    [Fact]
    public async Task The_nats_overlay_points_every_silo_at_a_nats_service_with_credentials_from_a_secret()
    {
        var rendered = await Manifests.RenderAsync("nats");
        var production = await Manifests.RenderAsync("production");
        var config = ConfigOf(rendered, rendered.SiloContainer);
        Assert.Equal("nats://nats.nats.svc.cluster.local:4222", config["Impact__Feeds__Nats__Url"]);
        Assert.DoesNotContain("@", config["Impact__Feeds__Nats__Url"], StringComparison.Ordinal); // no credentials in a URL either
        Assert.DoesNotContain(config.Keys, k => k.StartsWith("Impact__Feeds__Nats__", StringComparison.Ordinal) && k != "Impact__Feeds__Nats__Url");

        // Production's configuration otherwise, and its objects: the overlay adds the feed and nothing else.
        Assert.Equal(ConfigOf(production, production.SiloContainer).Select(e => $"{e.Key}={e.Value}").Order(),
            config.Where(e => e.Key != "Impact__Feeds__Nats__Url").Select(e => $"{e.Key}={e.Value}").Order());
        // (The ConfigMap's name carries a hash of its content, which the feed's URL changes.)
        static IEnumerable<string> Names(RenderedOverlay overlay) =>
            overlay.Objects.Select(o => $"{o.Kind}/{o.Namespace}/{(o.Kind == "ConfigMap" ? o.Name[..o.Name.LastIndexOf('-')] : o.Name)}").Order();
        Assert.Equal(Names(production), Names(rendered));

        var env = rendered.SiloContainer["env"]!.AsArray();
        foreach (var (name, key) in new[] { ("Impact__Feeds__Nats__User", "user"), ("Impact__Feeds__Nats__Password", "password") })
        {
            var reference = env.Single(e => (string)e!["name"]! == name)!["valueFrom"]!["secretKeyRef"]!;
            Assert.Equal("impactgrains-nats", (string)reference["name"]!);
            Assert.Equal(key, (string)reference["key"]!);
        }

        // The migration Job does not consume and gets no NATS credentials.
        Assert.DoesNotContain(rendered.MigrationContainer["env"]!.AsArray(), e => ((string)e!["name"]!).StartsWith("Impact__Feeds__", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dev_runs_its_own_postgres_on_a_persistent_volume()
    {
        var rendered = await Manifests.RenderAsync("dev");
        var statefulSet = rendered.Get("StatefulSet", "postgres");
        var claim = Assert.Single(statefulSet.Json["spec"]!["volumeClaimTemplates"]!.AsArray())!;
        Assert.Equal("data", (string?)claim["metadata"]!["name"]);
        var pod = Manifests.PodTemplateOf(statefulSet);
        Assert.Contains(pod.Containers.Single()["volumeMounts"]!.AsArray(), m => (string?)m!["name"] == "data");
        var service = rendered.Get("Service", "postgres");
        Assert.True(Manifests.Selects(service.Json["spec"]!["selector"], pod.Labels));

        // The Secrets that create-secrets.sh makes are the ones the pods read: the connection string points at that
        // Service with the user and password PostgreSQL is created with (DevSecretsTests runs the script).
        Assert.Equal("impactgrains-postgres", (string?)pod.Containers.Single()["envFrom"]![0]!["secretRef"]!["name"]);

        // Only ImpactGrains' pods reach PostgreSQL.
        var policy = rendered.Get("NetworkPolicy", "postgres").Json["spec"]!;
        Assert.True(Manifests.Selects(policy["podSelector"], pod.Labels));
        var from = policy["ingress"]![0]!["from"]![0]!["podSelector"];
        Assert.True(Manifests.Selects(from, rendered.SiloPod.Labels));
        Assert.True(Manifests.Selects(from, Manifests.PodTemplateOf(rendered.MigrationJob).Labels));
    }

    [Fact]
    public async Task The_validator_reports_wrong_types_missing_fields_and_unknown_fields()
    {
        const string broken = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: broken
              labelz: {a: b}
            spec:
              replica: 2
              selector:
                matchLabels: {a: b}
              template:
                metadata:
                  labels: {a: b}
                spec:
                  containers:
                    - name: c
                      image: example/c:1
                      ports:
                        - containerPort: eighty
                      resources:
                        requests: {cpu: 100m}
                        livenessProbe: {}
            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: pdb}
            spec:
              maxUnavailable: 1
              selector: {matchLabels: {a: b}, matchLabelz: {}}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata: {name: job}
            spec:
              template:
                spec: {restartPolicy: Never}
            ---
            apiVersion: example.com/v1
            kind: Widget
            metadata: {name: w}
            """;
        var objects = await Manifests.ValidateAsync(broken);
        var errors = objects.ToDictionary(o => o.Name, o => string.Join("\n", o.Errors));
        Assert.Contains("containerPort must be integer", errors["broken"]);
        Assert.Contains("unknown field /metadata/labelz", errors["broken"]);
        Assert.Contains("unknown field /spec/replica", errors["broken"]);
        Assert.Contains("unknown field /spec/template/spec/containers/0/resources/livenessProbe", errors["broken"]);
        Assert.Contains("unknown field /spec/selector/matchLabelz", errors["pdb"]);
        Assert.Contains("must have required property containers", errors["job"]);
        Assert.Contains("no schema", errors["w"]);
    }

    internal static IReadOnlyDictionary<string, string> ConfigOf(RenderedOverlay rendered, JsonObject container)
    {
        var configMap = (string)container["envFrom"]!.AsArray().Single(s => s!["configMapRef"] is not null)!["configMapRef"]!["name"]!;
        return rendered.ConfigMapData(configMap);
    }

    private static string Decode(KubeObject secret, string key) =>
        System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(((string)secret.Json["data"]![key]!).Replace("\n", "", StringComparison.Ordinal)));

    /// <summary>The keys of the README's configuration table: `A:B`, `C` in one cell means A:B and A:C.</summary>
    internal static HashSet<string> ReadmeKeys()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Repository.Read("README.md").Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            var cell = line.Split('|')[1];
            string? prefix = null;
            foreach (Match match in Regex.Matches(cell, "`([^`]+)`"))
            {
                var token = match.Groups[1].Value;
                if (token.Contains(':', StringComparison.Ordinal) || token.StartsWith("--", StringComparison.Ordinal))
                {
                    keys.Add(token);
                    prefix = token.Contains(':', StringComparison.Ordinal) ? token[..(token.LastIndexOf(':') + 1)] : null;
                }
                else if (prefix is not null)
                {
                    keys.Add(prefix + token);
                }
            }
        }

        return keys;
    }

    /// <summary>The default the README's configuration table gives a key.</summary>
    internal static string ReadmeDefault(string key)
    {
        var row = Repository.Read("README.md").Split('\n').Single(l => l.StartsWith($"| `{key}` |", StringComparison.Ordinal));
        return row.Split('|')[2].Trim().Trim('`');
    }
}
