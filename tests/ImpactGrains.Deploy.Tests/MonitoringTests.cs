using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ImpactGrains.Deploy.Tests;

/// <summary>
/// deploy-k8s/monitoring/, the operator kit: it renders and passes the offline validation (the Prometheus operator's
/// models for the ServiceMonitor and PrometheusRule), the ServiceMonitor finds the silos, every alert has its runbook,
/// the Grafana dashboard imports as it is, and every metric and label its expressions name is served by a real server.
/// </summary>
public sealed partial class MonitoringTests
{
    /// <summary>Series Prometheus itself records for every target it scrapes; no server can serve them.</summary>
    private static readonly HashSet<string> RecordedByPrometheus = ["up"];

    /// <summary>Labels the Prometheus operator attaches to every scraped series (the target's), not the server.</summary>
    private static readonly HashSet<string> TargetLabels = ["job", "namespace", "pod", "instance", "service", "endpoint", "container"];

    private static readonly Lazy<Task<IReadOnlyList<KubeObject>>> Rendered = new(RenderAsync);

    private static async Task<IReadOnlyList<KubeObject>> RenderAsync()
    {
        var rendered = await Tool.RunAsync("kubectl", ["kustomize", Path.Combine("deploy-k8s", "monitoring")], timeout: TimeSpan.FromMinutes(2));
        Assert.True(rendered.ExitCode == 0, $"kubectl kustomize deploy-k8s/monitoring failed:\n{rendered.Output}");
        return await Manifests.ValidateAsync(rendered.Stdout);
    }

    private static async Task<KubeObject> GetAsync(string kind, string name) =>
        (await Rendered.Value).SingleOrDefault(o => o.Kind == kind && o.Name == name) ?? throw new Xunit.Sdk.XunitException($"no {kind} {name} in deploy-k8s/monitoring");

    private static JsonObject Dashboard() => JsonNode.Parse(Repository.Read("deploy-k8s", "monitoring", "grafana-dashboard.json"))!.AsObject();

    private static IEnumerable<JsonObject> Rules(KubeObject rule) =>
        rule.Json["spec"]!["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).Select(r => r!.AsObject());

    /// <summary>Every PromQL expression of the kit: the rules', the dashboard panels' and its variables' queries.</summary>
    private static async Task<IReadOnlyList<(string Where, string Expression)>> ExpressionsAsync()
    {
        var expressions = Rules(await GetAsync("PrometheusRule", "impactgrains"))
            .Select(r => ($"alert {r["alert"]}", (string)r["expr"]!)).ToList();
        foreach (var panel in Panels(Dashboard()))
        {
            foreach (var target in panel["targets"]?.AsArray() ?? [])
            {
                expressions.Add(($"panel '{panel["title"]}'", (string)target!["expr"]!));
            }
        }

        foreach (var variable in Dashboard()["templating"]!["list"]!.AsArray().Where(v => (string?)v!["type"] == "query"))
        {
            var query = (string)variable!["query"]!["query"]!;
            var match = LabelValues().Match(query);
            Assert.True(match.Success, $"variable {variable["name"]}: '{query}' is not label_values(selector, label)");
            expressions.Add(($"variable {variable["name"]}", match.Groups["selector"].Value));
        }

        return expressions;
    }

    private static IEnumerable<JsonObject> Panels(JsonObject dashboard) =>
        dashboard["panels"]!.AsArray().Select(p => p!.AsObject())
            .SelectMany(p => (p["panels"]?.AsArray() ?? []).Select(inner => inner!.AsObject()).Prepend(p));

    [GeneratedRegex(@"^label_values\((?<selector>.+),\s*(?<label>\w+)\)$")]
    private static partial Regex LabelValues();

    [Fact]
    public async Task The_kit_renders_and_every_object_passes_the_offline_validation()
    {
        var objects = await Rendered.Value;
        var errors = objects.SelectMany(o => o.Errors.Select(e => $"{o}: {e}")).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        Assert.Equal(["ConfigMap/impactgrains-grafana-dashboard", "PrometheusRule/impactgrains", "ServiceMonitor/impactgrains"],
            objects.Select(o => $"{o.Kind}/{o.Name}").Order());

        // The production overlay's namespace, where the silos and their Service are.
        var production = await Manifests.RenderAsync("production");
        Assert.All(objects, o => Assert.Equal(production.Silos.Namespace, o.Namespace));

        // Grafana's sidecar loads the dashboard by its label; the ConfigMap holds the file as it is.
        var configMap = await GetAsync("ConfigMap", "impactgrains-grafana-dashboard");
        Assert.Equal("1", (string?)configMap.Json["metadata"]!["labels"]!["grafana_dashboard"]);
        Assert.Equal(Repository.Read("deploy-k8s", "monitoring", "grafana-dashboard.json"), (string?)configMap.Json["data"]!["impactgrains.json"]);
    }

    [Fact]
    public async Task The_ServiceMonitor_scrapes_the_silos_metrics_port()
    {
        var monitor = await GetAsync("ServiceMonitor", "impactgrains");
        var production = await Manifests.RenderAsync("production");
        var selector = monitor.Json["spec"]!["selector"];
        var selected = production.OfKind("Service")
            .Where(s => Manifests.Selects(selector, s.Json["metadata"]!["labels"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!)))
            .ToList();
        Assert.Contains(selected, s => s.Name == "impactgrains");

        var endpoint = Assert.Single(monitor.Json["spec"]!["endpoints"]!.AsArray())!;
        Assert.Equal("/metrics", (string?)endpoint["path"]);
        var port = (string)endpoint["port"]!;
        var service = production.Get("Service", "impactgrains");
        Assert.Contains(port, service.Json["spec"]!["ports"]!.AsArray().Select(p => (string?)p!["name"]));
        // The Service's port leads to the container port the server listens on (ASPNETCORE_URLS).
        Assert.Contains(production.SiloContainer["ports"]!.AsArray(), p => (string?)p!["name"] == port && (int)p["containerPort"]! == 8080);

        // The silos' NetworkPolicy lets the monitoring namespace reach that port.
        var http = production.Get("NetworkPolicy", "impactgrains-http").Json.ToJsonString();
        Assert.Contains("monitoring", http);
    }

    [Fact]
    public async Task Every_alert_an_on_call_engineer_needs_is_there_with_its_runbook()
    {
        var rules = Rules(await GetAsync("PrometheusRule", "impactgrains")).ToList();
        var names = rules.Select(r => (string)r["alert"]!).ToList();
        foreach (var expected in new[]
                 {
                     "ImpactGrainsIngestionStalled", "ImpactGrainsDeliveryBacklogGrowing", "ImpactGrainsSiloDown", "ImpactGrainsHighErrorRate",
                     "ImpactGrainsReadLatencyOverBudget", "ImpactGrainsStorageUnavailable",
                 })
        {
            Assert.Contains(expected, names);
        }

        Assert.Equal(names.Count, names.Distinct().Count());
        var operations = Repository.Read("docs", "operations.md");
        var anchors = Regex.Matches(operations, @"^#+ (.+)$", RegexOptions.Multiline).Select(m => Anchor(m.Groups[1].Value)).ToHashSet();
        foreach (var rule in rules)
        {
            var alert = (string)rule["alert"]!;
            Assert.False(string.IsNullOrWhiteSpace((string?)rule["expr"]), $"{alert} has no expression");
            Assert.Contains((string?)rule["labels"]?["severity"], new[] { "critical", "warning" });
            foreach (var annotation in new[] { "summary", "description", "runbook_url" })
            {
                Assert.False(string.IsNullOrWhiteSpace((string?)rule["annotations"]?[annotation]), $"{alert} has no {annotation}");
            }

            var runbook = (string)rule["annotations"]!["runbook_url"]!;
            var hash = runbook.IndexOf('#');
            Assert.True(runbook.Contains("docs/operations.md#", StringComparison.Ordinal) && anchors.Contains(runbook[(hash + 1)..]),
                $"{alert}: its runbook {runbook} is not a section of docs/operations.md");
        }
    }

    /// <summary>The anchor GitHub gives a heading: lower case, spaces as '-', punctuation dropped.</summary>
    private static string Anchor(string heading) =>
        Regex.Replace(heading.Trim().ToLowerInvariant().Replace(' ', '-'), @"[^\w-]", "");

    [Fact]
    public void The_dashboard_imports_as_it_is()
    {
        var dashboard = Dashboard();
        Assert.False(string.IsNullOrEmpty((string?)dashboard["uid"]));
        Assert.False(string.IsNullOrEmpty((string?)dashboard["title"]));
        Assert.True((int)dashboard["schemaVersion"]! >= 36);
        Assert.Null(dashboard["id"]); // an id would clash with the importing Grafana's own

        var variables = dashboard["templating"]!["list"]!.AsArray().Select(v => v!.AsObject()).ToList();
        Assert.Contains(variables, v => (string?)v["name"] == "datasource" && (string?)v["type"] == "datasource" && (string?)v["query"] == "prometheus");

        var panels = Panels(dashboard).ToList();
        Assert.True(panels.Count(p => (string?)p["type"] != "row") >= 15, "the dashboard has too few panels");
        Assert.Equal(panels.Count, panels.Select(p => (int)p["id"]!).Distinct().Count());
        var areas = new List<(int X, int Y, int W, int H, string Title)>();
        foreach (var panel in panels)
        {
            var title = (string)panel["title"]!;
            var grid = panel["gridPos"]!;
            var area = ((int)grid["x"]!, (int)grid["y"]!, (int)grid["w"]!, (int)grid["h"]!, title);
            Assert.True(area.Item1 + area.Item3 <= 24, $"panel '{title}' is wider than the dashboard");
            Assert.DoesNotContain(areas, a => a.X < area.Item1 + area.Item3 && area.Item1 < a.X + a.W && a.Y < area.Item2 + area.Item4 && area.Item2 < a.Y + a.H);
            areas.Add(area);
            if ((string?)panel["type"] == "row")
            {
                continue;
            }

            Assert.Equal("${datasource}", (string?)panel["datasource"]?["uid"]);
            var targets = panel["targets"]!.AsArray();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace((string?)t!["expr"]), $"panel '{title}' has a target without a query"));
        }

        // What the issue asks to see: ingestion and its split, latencies, freshness, activations, silos, reads, webhooks, CPU and memory.
        var queries = string.Join("\n", panels.SelectMany(p => p["targets"]?.AsArray() ?? []).Select(t => (string)t!["expr"]!));
        foreach (var metric in new[]
                 {
                     "impactgrains_events_accepted_total", "impactgrains_events_duplicate_total", "impactgrains_events_rejected_total",
                     "impactgrains_batch_commit_duration_seconds_bucket", "impactgrains_grain_apply_duration_seconds_bucket", "impactgrains_freshness_seconds_bucket",
                     "orleans_catalog_activations", "orleans_consistent_ring_size", "http_server_request_duration_seconds_bucket",
                     "impactgrains_webhook_deliveries_total", "dotnet_process_cpu_time_seconds_total", "dotnet_process_memory_working_set_bytes",
                 })
        {
            Assert.Contains(metric, queries);
        }
    }

    [Fact]
    public async Task The_expression_reader_finds_metrics_and_labels_and_skips_the_rest()
    {
        var selectors = PromQl.Selectors(
            "histogram_quantile(0.99, sum by (namespace, le) (rate(http_server_request_duration_seconds_bucket{job=\"x\", http_route=~\"/api/.+\"}[$__rate_interval]))) > 0.5 " +
            "unless on (namespace) deriv((sum(up{job='x'}))[15m:1m]) > bool 2 or absent(impactgrains_freshness_seconds_count offset 1h)");
        Assert.Equal(["http_server_request_duration_seconds_bucket", "up", "impactgrains_freshness_seconds_count"], selectors.Select(s => s.Metric));
        Assert.Equal(new[] { ("job", "=", "x"), ("http_route", "=~", "/api/.+") }, selectors[0].Matchers);
        Assert.Equal(["namespace", "le", "namespace"], PromQl.GroupingLabels("sum by (namespace, le) (x) / on (namespace) y"));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Every_metric_and_label_the_kit_queries_is_served_by_a_running_server()
    {
        // A server with some of everything: events accepted, duplicated and rejected, reads, a stream, a readiness
        // check, and an alert whose webhook is delivered to a local receiver.
        await using var receiver = new WebhookReceiver();
        await using var server = await ServerProcess.StartAsync(demo: true, extraArgs: [$"--Impact:Alerts:AllowedWebhookHosts:0=127.0.0.1/32"]);
        try
        {
            var http = server.Http;
            var rule = await http.PostAsJsonAsync("/api/alert-rules", new
            {
                target = "tesla", metric = "score", threshold = 1, coolDown = "PT1M", webhook = receiver.Url, secret = "monitoring-test-secret",
            });
            Assert.Equal(HttpStatusCode.Created, rule.StatusCode);
            var at = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            var events = $$$"""
                [{"id":"mon-1","entity":"tesla","type":"outage","occurredAt":"{{{at}}}","region":"US","data":{"reports":9000,"baselineReports":500}},
                 {"id":"mon-1","entity":"tesla","type":"outage","occurredAt":"{{{at}}}","data":{"reports":9000}},
                 {"id":"mon-bad","entity":"tesla","type":"outage","occurredAt":"{{{at}}}"}]
                """;
            using (var posted = await http.PostAsync("/api/events", new StringContent(events, Encoding.UTF8, "application/json")))
            {
                Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            }

            foreach (var read in new[] { "/api/entities/tesla/impact", "/api/leaderboard", "/api/entities/nobody/impact", "/health/ready" })
            {
                using var _ = await http.GetAsync(read);
            }

            using var stream = await http.GetAsync("/api/stream", HttpCompletionOption.ResponseHeadersRead);
            await receiver.Delivered.Task.WaitAsync(TimeSpan.FromSeconds(60));

            var expressions = await ExpressionsAsync();
            var missing = new List<string>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            do
            {
                missing.Clear();
                var served = Series(await http.GetStringAsync("/metrics"));
                foreach (var (where, expression) in expressions)
                {
                    var selectors = PromQl.Selectors(expression);
                    Assert.True(selectors.Count > 0, $"{where}: no metric in '{expression}'");
                    foreach (var selector in selectors.Where(s => !RecordedByPrometheus.Contains(s.Metric)))
                    {
                        if (!served.TryGetValue(selector.Metric, out var labels))
                        {
                            missing.Add($"{where}: {selector.Metric} is not served");
                            continue;
                        }

                        missing.AddRange(selector.Matchers.Select(m => m.Label).Where(l => !TargetLabels.Contains(l) && !labels.Contains(l))
                            .Select(l => $"{where}: {selector.Metric} has no label {l}"));
                    }

                    var known = selectors.SelectMany(s => served.GetValueOrDefault(s.Metric) ?? []).ToHashSet();
                    missing.AddRange(PromQl.GroupingLabels(expression).Where(l => !TargetLabels.Contains(l) && !known.Contains(l))
                        .Select(l => $"{where}: no metric of it has the label {l} it groups by"));
                }

                if (missing.Count > 0)
                {
                    // The exporter serves a cached scrape for a moment, and the webhook's settlement is counted after its answer.
                    await Task.Delay(500);
                }
            }
            while (missing.Count > 0 && DateTime.UtcNow < deadline);

            Assert.True(missing.Count == 0, string.Join("\n", missing.Distinct()));
        }
        finally
        {
            server.DeleteData();
        }
    }

    /// <summary>Metric name → the label names its series carry, from a Prometheus text scrape.</summary>
    private static Dictionary<string, HashSet<string>> Series(string scrape)
    {
        var series = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var line in scrape.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            var brace = line.IndexOf('{');
            var space = line.IndexOf(' ');
            var name = brace >= 0 && brace < space ? line[..brace] : line[..space];
            var labels = series.TryGetValue(name, out var set) ? set : series[name] = [];
            if (brace >= 0 && brace < space)
            {
                foreach (Match label in Regex.Matches(line[brace..line.LastIndexOf('}')], @"(\w+)="))
                {
                    labels.Add(label.Groups[1].Value);
                }
            }
        }

        return series;
    }

    /// <summary>A webhook receiver on loopback that answers 204 and says when the first delivery came.</summary>
    private sealed class WebhookReceiver : IAsyncDisposable
    {
        private readonly HttpListener listener = new();
        private readonly Task loop;

        public WebhookReceiver()
        {
            var port = LoopbackPorts.Next();
            Url = $"http://127.0.0.1:{port}/hook";
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
            loop = Task.Run(async () =>
            {
                while (listener.IsListening)
                {
                    try
                    {
                        var context = await listener.GetContextAsync();
                        context.Response.StatusCode = 204;
                        context.Response.Close();
                        Delivered.TrySetResult();
                    }
                    catch (Exception) when (!listener.IsListening)
                    {
                        return;
                    }
                    catch (HttpListenerException)
                    {
                        return;
                    }
                }
            });
        }

        public string Url { get; }

        public TaskCompletionSource Delivered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask DisposeAsync()
        {
            // Close alone: after Stop, Close unregisters the prefix again, and the managed HttpListener binds the port anew to
            // do it, failing with "Address already in use" when another test's process has taken the port meanwhile.
            listener.Close();
            try
            {
                await loop;
            }
            catch (ObjectDisposedException)
            {
                // closed
            }
        }
    }
}
