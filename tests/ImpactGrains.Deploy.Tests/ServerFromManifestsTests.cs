using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

namespace ImpactGrains.Deploy.Tests;

/// <summary>
/// The server as the production overlay runs it, without a cluster: `dotnet publish` the server as the Dockerfile does,
/// then run the image's ENTRYPOINT plus each container's args from the published folder (the image's WORKDIR) with
/// exactly the environment the rendered Job and Deployment give the container. The pod's own values are faked on
/// loopback (POD_IP=127.0.0.1, the Secrets point at a throwaway PostgreSQL) and the three ports are moved to free
/// ones so that tests can run side by side; nothing else is changed.
/// </summary>
public sealed class ServerFromManifestsTests : IAsyncLifetime
{
    /// <summary>What the .NET base images (runtime-deps) set before our Dockerfile's own ENV.</summary>
    private static readonly Dictionary<string, string> BaseImageEnvironment = new()
    {
        ["APP_UID"] = "1654",
        ["ASPNETCORE_HTTP_PORTS"] = "8080",
        ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
    };

    private readonly string root = Directory.CreateTempSubdirectory("impactgrains-deploy-").FullName;
    private PostgresServer postgres = null!;
    private string connectionString = "";

    private string Published => Path.Combine(root, "app");

    public async Task InitializeAsync()
    {
        var publish = PublishAsync();
        postgres = await PostgresServer.StartAsync();
        connectionString = await postgres.CreateDatabaseAsync();
        await publish;
    }

    public async Task DisposeAsync()
    {
        await postgres.DisposeAsync();
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    /// <summary>The Dockerfile's publish, from the build the tests already have (the image builds it from scratch).</summary>
    private async Task PublishAsync()
    {
        var configuration = ServerProcess.ServerAssembly.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var result = await Tool.RunAsync("dotnet",
            ["publish", "src/ImpactGrains.Server/ImpactGrains.Server.csproj", "-c", configuration, "--no-build", "-o", Published, "-p:UseAppHost=false", "--nologo", "-nodeReuse:false"],
            timeout: TimeSpan.FromMinutes(5),
            environment: new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["MSBUILDDISABLENODEREUSE"] = "1" },
            dropVariable: name => name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) && name != "MSBUILDDISABLENODEREUSE");
        Assert.True(result.ExitCode == 0, $"dotnet publish failed ({result.ExitCode}):\n{result.Output}");
    }

    [Fact]
    public async Task The_published_server_migrates_joins_the_cluster_passes_its_probes_and_drains_on_SIGTERM()
    {
        var rendered = await Manifests.RenderAsync("production");
        var dockerfile = Dockerfile.Load();
        var image = new Dictionary<string, string>(BaseImageEnvironment);
        foreach (var (key, value) in dockerfile.FinalEnvironment())
        {
            image[key] = value;
        }

        var entrypoint = dockerfile.Entrypoint();
        Assert.True(File.Exists(Path.Combine(Published, entrypoint[1])), $"the ENTRYPOINT's {entrypoint[1]} is not in the published output");
        Assert.True(File.Exists(Path.Combine(Published, "viewer", "index.html")), "the published output has no viewer/ (the Dockerfile's build stage bundles it with npm)");

        // The operator's Secrets: the connection string, and one admin key's entries as `keys create` prints them.
        var secrets = new Dictionary<(string, string), string>
        {
            [("impactgrains-database", "connection-string")] = connectionString,
            [("impactgrains-api-keys", "Impact__Auth__Keys__operator__Roles")] = "admin",
            [("impactgrains-api-keys", "Impact__Auth__Keys__operator__Hash")] = TestApiKeys.HashOf(TestApiKeys.Admin),
        };
        var before = Snapshot(Published);

        // The migration Job: `migrate` once; a second run of the same release finds nothing to do.
        var jobPod = Manifests.PodTemplateOf(rendered.MigrationJob);
        var jobEnvironment = PodEnvironment.Build(rendered, jobPod, rendered.MigrationContainer, Facts("impactgrains-migrate-x7k2p", secrets), image);
        MountVolumes(jobPod, rendered.MigrationContainer, jobEnvironment, Path.Combine(root, "impactgrains-migrate-x7k2p"), secrets);
        var jobCommand = entrypoint.Concat(rendered.MigrationContainer["args"]!.AsArray().Select(a => (string)a!)).ToList();
        await using (var job = PodProcess.Start(jobCommand, Published, jobEnvironment))
        {
            Assert.True(await job.WaitForExitAsync(TimeSpan.FromMinutes(3)) == 0, $"the migration Job failed:\n{job.Output}");
            Assert.Contains("migrate: applied", job.Output);
        }

        await using (var again = PodProcess.Start(jobCommand, Published, jobEnvironment))
        {
            Assert.True(await again.WaitForExitAsync(TimeSpan.FromMinutes(3)) == 0, again.Output);
            Assert.Contains("up to date", again.Output);
        }

        // Two silos of the Deployment.
        await using var a = await SiloPod.StartAsync(rendered, "impactgrains-6f7c9d8b5-a1b2c", secrets, image, entrypoint, Published, root);
        await using var b = await SiloPod.StartAsync(rendered, "impactgrains-6f7c9d8b5-d3e4f", secrets, image, entrypoint, Published, root);
        await a.PassesItsProbesAsync();
        await b.PassesItsProbesAsync();

        // Both joined one cluster, under the cluster id from the pod label, advertised at POD_IP.
        var clusterId = rendered.SiloPod.Labels["orleans/clusterId"];
        var members = await WaitForMembersAsync(clusterId, m => m.Count(r => r.Status == 3) == 2, TimeSpan.FromSeconds(60));
        foreach (var silo in new[] { a, b })
        {
            var row = Assert.Single(members, m => m.Port == silo.SiloPort);
            Assert.Equal("127.0.0.1", row.Address);
            Assert.Equal(3, row.Status);
            Assert.Equal(silo.GatewayPort, row.ProxyPort);
        }

        // One cluster: what one silo writes, the other serves.
        using (var put = await a.Http.PutAsync("/api/entities/k8s-acme", new StringContent("""{"name":"Acme Corp","kind":"company"}""", Encoding.UTF8, "application/json")))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        using (var impact = await b.Http.GetAsync("/api/entities/k8s-acme/impact"))
        {
            Assert.True(impact.StatusCode == HttpStatusCode.OK, $"{(int)impact.StatusCode} {await impact.Content.ReadAsStringAsync()}\n--- a:\n{a.Process.Output}\n--- b:\n{b.Process.Output}");
            Assert.Equal("k8s-acme", (string?)JsonNode.Parse(await impact.Content.ReadAsStringAsync())!["entity"]);
        }

        // The keys come from the mounted Secret: without one the API refuses; the viewer is the published bundle. The
        // Orleans Dashboard is off in production (its per-call profiling), so not even an admin finds it.
        using (var anonymous = new HttpClient { BaseAddress = a.Http.BaseAddress })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/entities")).StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/entities/k8s-acme"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"operator:{TestApiKeys.Admin}")));
            using var browser = new HttpClient { BaseAddress = a.Http.BaseAddress }; // the key as the Basic password only
            using var answer = await browser.SendAsync(request);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"the Secret's key as a Basic password: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}\n{a.Process.Output}");
        }

        Assert.Equal(HttpStatusCode.NotFound, (await a.Http.GetAsync("/dashboard/")).StatusCode);

        // A key added to the Secret reaches both silos without a restart, and one removed is refused by both.
        var rotated = TestApiKeys.Create();
        foreach (var silo in new[] { a, b })
        {
            silo.ApiKeys.Set(("Impact__Auth__Keys__rotated__Roles", "read"), ("Impact__Auth__Keys__rotated__Hash", TestApiKeys.HashOf(rotated)));
        }

        await Task.WhenAll(a.UntilKeyAsync(rotated, HttpStatusCode.OK), b.UntilKeyAsync(rotated, HttpStatusCode.OK));
        foreach (var silo in new[] { a, b })
        {
            silo.ApiKeys.Remove("Impact__Auth__Keys__rotated__Roles", "Impact__Auth__Keys__rotated__Hash");
        }

        await Task.WhenAll(a.UntilKeyAsync(rotated, HttpStatusCode.Unauthorized), b.UntilKeyAsync(rotated, HttpStatusCode.Unauthorized));

        // Metrics for Prometheus at the annotated path, labelled with the pod through OTEL_RESOURCE_ATTRIBUTES.
        var metrics = await a.Http.GetStringAsync(rendered.SiloPod.Metadata["annotations"]!["prometheus.io/path"]!.GetValue<string>());
        Assert.Contains("k8s_pod_name=\"impactgrains-6f7c9d8b5-a1b2c\"", metrics);
        Assert.Contains("k8s_namespace_name=\"impactgrains\"", metrics);

        var viewer = await a.Http.GetStringAsync("/");
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Published, "viewer", "index.html")), viewer);

        // SIGTERM, as a rolling update or a scale-in sends it: exit 0 within the grace period, marked dead (6), and the
        // other silo stays ready.
        var grace = TimeSpan.FromSeconds((int)rendered.SiloPod.Spec["terminationGracePeriodSeconds"]!);
        await a.Process.TerminateAsync();
        Assert.True(await a.Process.WaitForExitAsync(grace) == 0, $"the silo did not exit 0 on SIGTERM:\n{a.Process.Output}");
        members = await WaitForMembersAsync(clusterId, m => m.Single(r => r.Port == a.SiloPort).Status == 6, TimeSpan.FromSeconds(10));
        Assert.Equal(3, members.Single(r => r.Port == b.SiloPort).Status);
        Assert.Equal(HttpStatusCode.OK, (await b.Http.GetAsync(b.ReadinessPath)).StatusCode);
        using (var impact = await b.Http.GetAsync("/api/entities/k8s-acme/impact"))
        {
            Assert.Equal(HttpStatusCode.OK, impact.StatusCode);
        }

        await b.Process.TerminateAsync();
        Assert.True(await b.Process.WaitForExitAsync(grace) == 0, $"the silo did not exit 0 on SIGTERM:\n{b.Process.Output}");

        // A read-only root filesystem: nothing was written into the image's folder, only into the /tmp volume.
        var after = Snapshot(Published);
        Assert.True(before.SequenceEqual(after), "written into the application folder: " + string.Join(", ", after.Except(before).Concat(before.Except(after))));

        // The logs are JSON lines, as the ConfigMap asks.
        var firstLog = a.Process.Output.Split('\n').First(l => l.StartsWith('{'));
        Assert.NotNull(JsonNode.Parse(firstLog)!["LogLevel"]);
    }

    private static PodFacts Facts(string podName, IReadOnlyDictionary<(string, string), string> secrets) => new()
    {
        Fields = new Dictionary<string, string>
        {
            ["metadata.name"] = podName,
            ["metadata.namespace"] = "impactgrains",
            ["status.podIP"] = "127.0.0.1",
            ["status.hostIP"] = "127.0.0.1",
            ["spec.nodeName"] = "localhost",
            ["spec.serviceAccountName"] = "impactgrains",
        },
        Secrets = secrets,
    };

    /// <summary>
    /// The container's volumes as fresh folders: an emptyDir empty, a Secret with its data laid out as the kubelet mounts
    /// it (<see cref="SecretVolume"/>, which the test updates as the kubelet would). Variables that point into a mount
    /// point (HOME=/tmp, Impact__Auth__KeysDirectory) point into its folder, and TMPDIR names the /tmp volume, which is
    /// where the runtime's default /tmp would be. Returns the Secret volumes by name.
    /// </summary>
    private static Dictionary<string, SecretVolume> MountVolumes(PodTemplate pod, JsonObject container, Dictionary<string, string> environment, string folder,
        IReadOnlyDictionary<(string Secret, string Key), string> secrets)
    {
        var mounted = new Dictionary<string, SecretVolume>();
        foreach (var mount in container["volumeMounts"]?.AsArray() ?? [])
        {
            var path = (string)mount!["mountPath"]!;
            var name = (string)mount["name"]!;
            var local = Path.Combine(folder, name);
            var volume = pod.Spec["volumes"]!.AsArray().Single(v => (string?)v!["name"] == name)!;
            if (volume["secret"] is { } secret)
            {
                var secretName = (string)secret["secretName"]!;
                var data = secrets.Where(p => p.Key.Secret == secretName).ToDictionary(p => p.Key.Key, p => p.Value);
                Assert.True(data.Count > 0, $"{pod} mounts Secret {secretName}, which the test does not provide");
                mounted[name] = SecretVolume.Create(local, data);
            }
            else
            {
                Assert.NotNull(volume["emptyDir"]);
                Directory.CreateDirectory(local);
            }

            foreach (var (key, value) in environment.ToList())
            {
                if (value == path || value.StartsWith(path + "/", StringComparison.Ordinal))
                {
                    environment[key] = local + value[path.Length..];
                }
            }

            if (path == "/tmp")
            {
                environment["TMPDIR"] = local;
            }
        }

        return mounted;
    }

    private sealed record Member(string Address, int Port, int Status, int? ProxyPort);

    private async Task<List<Member>> WaitForMembersAsync(string clusterId, Func<List<Member>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var members = new List<Member>();
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(
                    "SELECT address, port, status, proxy_port FROM orleans_membership WHERE deployment_id = @cluster ORDER BY generation", connection);
                command.Parameters.AddWithValue("cluster", clusterId);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    members.Add(new Member(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3)));
                }
            }

            if (condition(members))
            {
                return members;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the membership table never got there: " + string.Join("; ", members));
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Every file of a folder with its size and time: a write anywhere changes it.</summary>
    private static List<string> Snapshot(string directory) =>
        Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
            .Select(p => $"{Path.GetRelativePath(directory, p)} {(File.Exists(p) ? new FileInfo(p).Length : -1)} {File.GetLastWriteTimeUtc(p):O}")
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>One silo pod: the Deployment's container on loopback with free ports.</summary>
    private sealed class SiloPod : IAsyncDisposable
    {
        private SiloPod(PodProcess process, JsonObject container, SecretVolume apiKeys, int httpPort, int siloPort, int gatewayPort)
        {
            Process = process;
            Container = container;
            ApiKeys = apiKeys;
            SiloPort = siloPort;
            GatewayPort = gatewayPort;
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
            Http.DefaultRequestHeaders.Add("X-Api-Key", TestApiKeys.Admin);
        }

        public PodProcess Process { get; }

        public JsonObject Container { get; }

        public int SiloPort { get; }

        public int GatewayPort { get; }

        public HttpClient Http { get; }

        /// <summary>The pod's copy of the Secret impactgrains-api-keys, as the kubelet keeps it up to date.</summary>
        public SecretVolume ApiKeys { get; }

        /// <summary>Asks with the key until the silo answers the status: within 60 s, the promise of a mounted keys directory.</summary>
        public async Task UntilKeyAsync(string key, HttpStatusCode status)
        {
            using var client = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = Http.Timeout };
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            HttpStatusCode last = 0;
            while (DateTime.UtcNow < deadline)
            {
                using (var response = await client.GetAsync("/api/entities/k8s-acme"))
                {
                    last = response.StatusCode;
                }

                if (last == status)
                {
                    return;
                }

                await Task.Delay(250);
            }

            throw new Xunit.Sdk.XunitException($"the silo still answered {(int)last}, not {(int)status}, 60 s after the Secret changed:\n{Process.Output}");
        }

        public string ReadinessPath => (string)Container["readinessProbe"]!["httpGet"]!["path"]!;

        public static Task<SiloPod> StartAsync(RenderedOverlay rendered, string podName, IReadOnlyDictionary<(string, string), string> secrets,
            IReadOnlyDictionary<string, string> image, IReadOnlyList<string> entrypoint, string workingDirectory, string root)
        {
            var container = rendered.SiloContainer;
            var environment = PodEnvironment.Build(rendered, rendered.SiloPod, container, Facts(podName, secrets), image);

            // The only changes: free ports instead of 8080/11111/30000 on every interface.
            var httpPort = PostgresServer.FreePort();
            var siloPort = PostgresServer.FreePort();
            var gatewayPort = PostgresServer.FreePort();
            Replace(environment, "ASPNETCORE_URLS", "http://0.0.0.0:8080", $"http://127.0.0.1:{httpPort}");
            Replace(environment, "Orleans__SiloPort", "11111", siloPort.ToString(CultureInfo.InvariantCulture));
            Replace(environment, "Orleans__GatewayPort", "30000", gatewayPort.ToString(CultureInfo.InvariantCulture));

            environment["HOSTNAME"] = podName;
            var volumes = MountVolumes(rendered.SiloPod, container, environment, Path.Combine(root, podName), secrets);

            var command = entrypoint.Concat(container["args"]?.AsArray().Select(a => (string)a!) ?? []).ToList();
            var process = PodProcess.Start(command, workingDirectory, environment);
            var apiKeys = volumes.Values.Single(v => v.Data.Keys.Any(k => k.StartsWith("Impact__Auth__Keys__", StringComparison.Ordinal)));
            return Task.FromResult(new SiloPod(process, container, apiKeys, httpPort, siloPort, gatewayPort));
        }

        private static void Replace(Dictionary<string, string> environment, string key, string expected, string value)
        {
            Assert.True(environment.TryGetValue(key, out var actual), $"the Deployment gives the container no {key}");
            Assert.Equal(expected, actual);
            environment[key] = value;
        }

        /// <summary>The kubelet's view: the startup probe within its budget, then readiness and liveness.</summary>
        public async Task PassesItsProbesAsync()
        {
            var startup = Container["startupProbe"]!;
            var budget = TimeSpan.FromSeconds((int)startup["periodSeconds"]! * (int)startup["failureThreshold"]!);
            await WaitForAsync((string)startup["httpGet"]!["path"]!, budget);
            await WaitForAsync(ReadinessPath, TimeSpan.FromSeconds(60));

            var ready = JsonNode.Parse(await Http.GetStringAsync(ReadinessPath))!;
            Assert.Equal("Healthy", (string?)ready["checks"]!["silo"]!["status"]);
            Assert.Equal("Healthy", (string?)ready["checks"]!["storage"]!["status"]);
            using var live = await Http.GetAsync((string)Container["livenessProbe"]!["httpGet"]!["path"]!);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        private async Task WaitForAsync(string path, TimeSpan budget)
        {
            var deadline = DateTime.UtcNow + budget;
            var last = "";
            while (DateTime.UtcNow < deadline)
            {
                if (Process.HasExited)
                {
                    throw new Xunit.Sdk.XunitException($"the silo exited with {Process.ExitCode}:\n{Process.Output}");
                }

                try
                {
                    using var response = await Http.GetAsync(path);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }

                    last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                }
                catch (HttpRequestException ex)
                {
                    last = ex.Message;
                }

                await Task.Delay(250);
            }

            throw new Xunit.Sdk.XunitException($"{path} did not answer 200 within {budget} (last: {last}):\n{Process.Output}");
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await Process.DisposeAsync();
        }
    }
}
