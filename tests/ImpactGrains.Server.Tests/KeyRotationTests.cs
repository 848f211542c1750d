using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using ImpactGrains.Server.Security;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

/// <summary>Key files as `keys create` prints their entries: Impact__Auth__Keys__NAME__Roles and __Hash.</summary>
internal static class KeyFiles
{
    public static (string Name, string Value)[] Of(string name, string roles, string key) =>
    [
        ($"Impact__Auth__Keys__{name}__Roles", roles),
        ($"Impact__Auth__Keys__{name}__Hash", TestApiKeys.HashOf(key)),
    ];

    public static Dictionary<string, string> Data(params (string Name, string Value)[][] keys) =>
        keys.SelectMany(k => k).ToDictionary(e => e.Name, e => e.Value);

    public static string NewDirectory() => Path.Combine(Path.GetTempPath(), "impactgrains-tests", "keys-" + Guid.NewGuid().ToString("N"));
}

/// <summary>
/// Rotation on a real server whose keys come from a directory laid out and updated the way the kubelet mounts a Secret
/// (<see cref="SecretVolume"/>): a key added is admitted and a key removed refused within 60 seconds, without a
/// restart, while a client with a key that stays is never refused.
/// </summary>
public sealed class KeyRotationTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    /// <summary>Asks until the answer has the status; returns how long that took, or fails after <see cref="Within"/>.</summary>
    private static async Task<TimeSpan> UntilAsync(HttpClient client, string path, HttpStatusCode status, ServerProcess server)
    {
        var clock = Stopwatch.StartNew();
        HttpStatusCode last = 0;
        while (clock.Elapsed < Within)
        {
            using (var response = await client.GetAsync(path))
            {
                last = response.StatusCode;
            }

            if (last == status)
            {
                return clock.Elapsed;
            }

            await Task.Delay(250);
        }

        throw new Xunit.Sdk.XunitException($"GET {path} still answered {(int)last}, not {(int)status}, after {Within.TotalSeconds} s:\n{server.Output}");
    }

    [Fact]
    public async Task Add_new_move_the_client_remove_old_without_a_restart_and_without_a_failed_request()
    {
        var oldKey = TestApiKeys.Create();
        var newKey = TestApiKeys.Create();
        var steadyKey = TestApiKeys.Create();
        var directory = KeyFiles.NewDirectory();
        var volume = SecretVolume.Create(directory, KeyFiles.Data(KeyFiles.Of("ops_old", "admin", oldKey), KeyFiles.Of("dashboard_tv", "read", steadyKey)));
        await using var server = await ServerProcess.StartAsync(demo: false, extraArgs:
        [
            $"--Impact:Auth:KeysDirectory={directory}", .. TestApiKeys.Entry("tests_admin", "admin", TestApiKeys.Admin),
            // The start-up notice and the changes are Information; the tests' servers log Warning and above otherwise.
            "--Logging:LogLevel:ImpactGrains.Security=Information", "--Logging:LogLevel:ImpactGrains.Server.Security=Information",
        ]);
        try
        {
            Assert.Contains($"keys directory {directory}, read every 5 s", server.Output, StringComparison.Ordinal);
            using var oldClient = server.ClientWithKey(oldKey);
            using var newClient = server.ClientWithKey(newKey);
            Assert.Equal(HttpStatusCode.OK, (await oldClient.GetAsync("/api/entities")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await newClient.GetAsync("/api/entities")).StatusCode);

            // A client whose key stays reads throughout, and an admin from the configuration writes throughout.
            using var stop = new CancellationTokenSource();
            var steady = KeepReadingAsync(server.ClientWithKey(steadyKey), stop.Token);
            var writer = KeepWritingAsync(server.Http, stop.Token);

            // 1. Add the new key beside the old one: both work.
            volume.Set(KeyFiles.Of("ops_new", "admin", newKey));
            await UntilAsync(newClient, "/api/entities", HttpStatusCode.OK, server);
            Assert.Equal(HttpStatusCode.OK, (await oldClient.GetAsync("/api/entities")).StatusCode);

            // 2. Move the client: the new key has its roles.
            await (await newClient.PutJsonAsync("/api/entities/rotated-by-new", """{"name":"Rotated","kind":"company"}""")).JsonAsync(HttpStatusCode.Created);

            // 3. Remove the old key: refused, and the new one still works.
            volume.Remove("Impact__Auth__Keys__ops_old__Roles", "Impact__Auth__Keys__ops_old__Hash");
            await UntilAsync(oldClient, "/api/entities", HttpStatusCode.Unauthorized, server);
            var refused = await oldClient.GetAsync("/api/entities");
            Assert.Contains("unknown or was revoked", await refused.ProblemAsync(HttpStatusCode.Unauthorized));
            Assert.Equal(HttpStatusCode.OK, (await newClient.GetAsync("/api/entities/rotated-by-new")).StatusCode);

            await stop.CancelAsync();
            var (reads, failedReads) = await steady;
            var (writes, failedWrites) = await writer;
            Assert.True(reads > 10 && writes > 10, $"{reads} reads and {writes} writes during the rotation");
            Assert.True(failedReads.Count == 0, "reads failed during the rotation: " + string.Join("; ", failedReads));
            Assert.True(failedWrites.Count == 0, "writes failed during the rotation: " + string.Join("; ", failedWrites));

            // The log says what changed, by name only.
            Assert.Matches(@"API keys from .* changed: added ops_new; removed none; changed none\. Now 4 admitted", server.Output);
            Assert.Matches(@"API keys from .* changed: added none; removed ops_old; changed none\. Now 3 admitted", server.Output);
            Assert.DoesNotContain(TestApiKeys.HashOf(newKey)["sha256:".Length..], server.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(newKey, server.Output, StringComparison.Ordinal);
            Assert.False(server.HasExited);
        }
        finally
        {
            server.DeleteData();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(int Count, List<string> Failures)> KeepReadingAsync(HttpClient client, CancellationToken stop)
    {
        var failures = new List<string>();
        var count = 0;
        using (client)
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.GetAsync("/api/entities", CancellationToken.None);
                count++;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                }

                await Task.Delay(20, CancellationToken.None);
            }
        }

        return (count, failures);
    }

    private static async Task<(int Count, List<string> Failures)> KeepWritingAsync(HttpClient client, CancellationToken stop)
    {
        var failures = new List<string>();
        var count = 0;
        while (!stop.IsCancellationRequested)
        {
            using var response = await client.PutJsonAsync($"/api/entities/rotation-writer-{count % 50}", """{"name":"Writer","kind":"company"}""");
            count++;
            if (!response.IsSuccessStatusCode)
            {
                failures.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
            }

            await Task.Delay(50, CancellationToken.None);
        }

        return (count, failures);
    }

    [Fact]
    public async Task A_malformed_file_is_logged_once_and_ignored_and_never_locks_out_an_admitted_key()
    {
        var readerKey = TestApiKeys.Create();
        var halfKey = TestApiKeys.Create();
        var badRoleKey = TestApiKeys.Create();
        var laterKey = TestApiKeys.Create();
        var directory = KeyFiles.NewDirectory();
        var volume = SecretVolume.Create(directory, KeyFiles.Data(KeyFiles.Of("reader", "read", readerKey)));
        await using var server = await ServerProcess.StartAsync(demo: false, extraArgs:
            [$"--Impact:Auth:KeysDirectory={directory}", .. TestApiKeys.Entry("tests_admin", "admin", TestApiKeys.Admin)]);
        try
        {
            using var reader = server.ClientWithKey(readerKey);
            volume.Set(
                ("Impact__Auth__Keys__broken__Hash", "sha256:not-hex"), ("Impact__Auth__Keys__broken__Roles", "admin"),
                ("notes.txt", "rotate on Mondays"),
                ("Impact__Auth__Keys__half__Hash", TestApiKeys.HashOf(halfKey)),
                ("Impact__Auth__Keys__badrole__Roles", "root"), ("Impact__Auth__Keys__badrole__Hash", TestApiKeys.HashOf(badRoleKey)),
                ("Impact__Auth__Keys__tests_admin__Roles", "read"), ("Impact__Auth__Keys__tests_admin__Hash", TestApiKeys.HashOf(TestApiKeys.Create())));
            string[] problems =
            [
                "Impact__Auth__Keys__broken__Hash expected 'sha256:' and 64 hex digits",
                "notes.txt is not a key file",
                "Impact__Auth__Keys__half__Hash has no Impact__Auth__Keys__half__Roles beside it; the key 'half' is ignored",
                "Impact__Auth__Keys__badrole__Roles 'root' is not a role",
                "the key 'tests_admin' is also configured in Impact:Auth:Keys, which stands",
            ];
            await WaitForAsync(server, problems[^1]);

            // Later readings (a key added makes one certain) log nothing again.
            volume.Set(KeyFiles.Of("later", "read", laterKey));
            using var later = server.ClientWithKey(laterKey);
            await UntilAsync(later, "/api/entities", HttpStatusCode.OK, server);
            foreach (var problem in problems)
            {
                Assert.True(Regex.Matches(server.Output, Regex.Escape(problem)).Count == 1, $"'{problem}' is not logged exactly once:\n{server.Output}");
            }

            // Only the malformed entries are ignored; the others, and the configured admin, still work.
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/entities")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/api/entities")).StatusCode);
            foreach (var key in new[] { halfKey, badRoleKey })
            {
                using var client = server.ClientWithKey(key);
                Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/entities")).StatusCode);
            }

            // A botched edit of an admitted key (its hash cut short) keeps the key as it was, and says so once.
            volume.Set(("Impact__Auth__Keys__reader__Hash", "sha256:"));
            await WaitForAsync(server, "Impact__Auth__Keys__reader__Hash expected 'sha256:' and 64 hex digits, the SHA-256 of the key (ImpactGrains.Server keys create prints it); the key 'reader' stays as it was admitted");
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/entities")).StatusCode);

            // Removing both of its files removes it.
            volume.Remove("Impact__Auth__Keys__reader__Hash", "Impact__Auth__Keys__reader__Roles");
            await UntilAsync(reader, "/api/entities", HttpStatusCode.Unauthorized, server);
            Assert.Equal(HttpStatusCode.OK, (await later.GetAsync("/api/entities")).StatusCode);
        }
        finally
        {
            server.DeleteData();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task WaitForAsync(ServerProcess server, string text)
    {
        var clock = Stopwatch.StartNew();
        while (!server.Output.Contains(text, StringComparison.Ordinal) && clock.Elapsed < Within)
        {
            await Task.Delay(200);
        }

        Assert.True(server.Output.Contains(text, StringComparison.Ordinal), $"the server never logged '{text}':\n{server.Output}");
    }

    [Fact]
    public async Task The_server_refuses_to_start_when_the_directory_is_missing_or_admits_nobody()
    {
        var missing = KeyFiles.NewDirectory();
        var (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), "--urls=http://127.0.0.1:0",
            $"--Impact:Auth:KeysDirectory={missing}", "--Impact:DataDirectory=" + KeyFiles.NewDirectory());
        Assert.Equal(2, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains($"Impact:Auth:KeysDirectory: '{missing}' cannot be read", line, StringComparison.Ordinal);

        // A directory means keys are wanted: one with nothing valid in it does not start open, even on loopback.
        var empty = KeyFiles.NewDirectory();
        SecretVolume.Create(empty, new Dictionary<string, string> { ["Impact__Auth__Keys__ops__Hash"] = "sha256:abc", ["Impact__Auth__Keys__ops__Roles"] = "admin" });
        try
        {
            (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), "--urls=http://127.0.0.1:0",
                $"--Impact:Auth:KeysDirectory={empty}", "--Impact:DataDirectory=" + KeyFiles.NewDirectory());
            Assert.Equal(2, exitCode);
            line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Contains($"'{empty}' holds no valid key (first problem: Impact__Auth__Keys__ops__Hash expected 'sha256:'", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }
}

/// <summary>The keys directory read and watched in-process: what is read, what is ignored, what a change does.</summary>
public sealed class ApiKeyDirectoryTests : IDisposable
{
    private readonly string directory = KeyFiles.NewDirectory();

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static readonly string KeyA = TestApiKeys.Create(), KeyB = TestApiKeys.Create(), KeyC = TestApiKeys.Create();

    private static string Hex(string key) => TestApiKeys.HashOf(key)["sha256:".Length..];

    [Fact]
    public void A_mounted_secret_is_read_through_its_links_and_the_kubelets_own_entries_are_skipped()
    {
        var volume = SecretVolume.Create(directory, KeyFiles.Data(KeyFiles.Of("ops", "admin", KeyA), KeyFiles.Of("Viewer", "read, ingest", KeyB)));
        Assert.Contains(Directory.EnumerateFileSystemEntries(directory), e => Path.GetFileName(e) == "..data");
        var reading = ApiKeyDirectory.Read(directory);
        Assert.Empty(reading.Problems);
        Assert.Equal(new DirectoryKey("ops", ApiRole.Admin, Hex(KeyA)), reading.Keys["OPS"]);
        Assert.Equal(new DirectoryKey("Viewer", ApiRole.Read | ApiRole.Ingest, Hex(KeyB)), reading.Keys["viewer"]);

        // Values as `kubectl create secret --from-file` stores them, with a final newline, and upper-case hex.
        volume.Set(("Impact__Auth__Keys__ops__Hash", TestApiKeys.HashOf(KeyA).ToUpperInvariant().Replace("SHA256:", "sha256:") + "\n"));
        var again = ApiKeyDirectory.Read(directory);
        Assert.Empty(again.Problems);
        Assert.Equal(Hex(KeyA), again.Keys["ops"].Hash);
        Assert.NotEqual(reading.Fingerprint, again.Fingerprint);
        Assert.Equal(again.Fingerprint, ApiKeyDirectory.Read(directory).Fingerprint);
    }

    [Fact]
    public void Each_malformed_entry_is_a_problem_of_its_own()
    {
        Directory.CreateDirectory(Path.Combine(directory, "subfolder"));
        var files = new Dictionary<string, string>
        {
            ["Impact__Auth__Keys__good__Hash"] = TestApiKeys.HashOf(KeyA),
            ["Impact__Auth__Keys__good__Roles"] = "read",
            ["Impact__Auth__Keys__nohash__Roles"] = "read",
            ["Impact__Auth__Keys__bad name__Hash"] = TestApiKeys.HashOf(KeyB),
            ["Impact__Auth__Keys__a__b__Hash"] = TestApiKeys.HashOf(KeyB),
            ["Impact__Auth__Keys__empty__Hash"] = "",
            ["Impact__Auth__Keys__empty__Roles"] = "",
            ["Impact__Auth__Keys__huge__Hash"] = new string('a', ApiKeyDirectory.MaxFileBytes + 1),
            ["Impact__Auth__Keys__huge__Roles"] = "read",
            ["Impact__Auth__Keys__twice__Hash"] = TestApiKeys.HashOf(KeyC),
            ["Impact__Auth__Keys__TWICE__Hash"] = TestApiKeys.HashOf(KeyC),
            ["Impact__Auth__Keys__twice__Roles"] = "read",
            ["README"] = "keys for production",
        };
        foreach (var (name, content) in files)
        {
            File.WriteAllText(Path.Combine(directory, name), content);
        }

        var reading = ApiKeyDirectory.Read(directory);
        Assert.Equal(["good"], reading.Keys.Keys);
        var problems = reading.Problems.Select(p => $"{p.Subject} {p.Message}").ToList();
        Assert.Contains("subfolder is a directory, not a key file", problems);
        Assert.Contains("Impact__Auth__Keys__nohash__Roles has no Impact__Auth__Keys__nohash__Hash beside it", problems);
        Assert.Contains(problems, p => p.StartsWith("Impact__Auth__Keys__bad name__Hash a key's name is 1 to 64 letters", StringComparison.Ordinal));
        Assert.Contains("Impact__Auth__Keys__a__b__Hash a key's name has no double underscore", problems);
        Assert.Contains(problems, p => p.StartsWith("Impact__Auth__Keys__empty__Hash expected 'sha256:'", StringComparison.Ordinal));
        Assert.Contains($"Impact__Auth__Keys__huge__Hash is larger than {ApiKeyDirectory.MaxFileBytes} bytes", problems);
        Assert.Contains(problems, p => p.Contains("are the same entry (key names are case-insensitive)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("README is not a key file", StringComparison.Ordinal));
        Assert.Equal(8, problems.Count);
    }

    [Fact]
    public void The_watcher_swaps_the_ring_keeps_a_botched_key_and_lets_the_configuration_win()
    {
        var volume = SecretVolume.Create(directory, KeyFiles.Data(KeyFiles.Of("ops", "admin", KeyA)));
        var configured = ApiKeyRing.Parse(new AuthOptions { Keys = { ["pipeline"] = new ApiKeyEntry { Roles = "ingest", Hash = TestApiKeys.HashOf(KeyC) } } }, out var error);
        Assert.Null(error);
        var ring = ApiKeyDirectoryWatcher.ReadInitial(directory, configured, out var reading, out error);
        Assert.Null(error);
        var plan = new AccessPlan(open: false, ring, publicRead: false);
        var watcher = ApiKeyDirectoryWatcher.Create(directory, configured, plan, reading!);
        Assert.Equal(["ops", "pipeline"], plan.Keys.Keys.Select(k => k.Name).Order());

        // Added, then roles changed: each reading replaces the ring the requests use.
        volume.Set(KeyFiles.Of("viewer", "read", KeyB));
        var before = plan.Keys;
        watcher.Poll();
        Assert.NotSame(before, plan.Keys);
        Assert.Equal(ApiRole.Read, plan.Keys.FindByHash(Hex(KeyB))!.Roles);
        var same = plan.Keys;
        watcher.Poll(); // nothing changed on disk: the same ring, nothing rebuilt
        Assert.Same(same, plan.Keys);

        // A malformed roles file of an admitted key: it keeps its roles.
        volume.Set(("Impact__Auth__Keys__viewer__Roles", "reader"));
        watcher.Poll();
        Assert.Equal(ApiRole.Read, plan.Keys.FindByHash(Hex(KeyB))!.Roles);
        volume.Set(("Impact__Auth__Keys__viewer__Roles", "read,ingest"));
        watcher.Poll();
        Assert.Equal(ApiRole.Read | ApiRole.Ingest, plan.Keys.FindByHash(Hex(KeyB))!.Roles);

        // A directory key named like a configured one, or holding the same key as another, is left out.
        volume.Set(("Impact__Auth__Keys__pipeline__Roles", "admin"), ("Impact__Auth__Keys__pipeline__Hash", TestApiKeys.HashOf(TestApiKeys.Create())),
            ("Impact__Auth__Keys__copy__Roles", "admin"), ("Impact__Auth__Keys__copy__Hash", TestApiKeys.HashOf(KeyB)));
        watcher.Poll();
        Assert.Equal(["ops", "pipeline", "viewer"], plan.Keys.Keys.Select(k => k.Name).Order());
        Assert.Equal(ApiRole.Ingest, plan.Keys.FindByHash(Hex(KeyC))!.Roles);
        Assert.Equal("viewer", plan.Keys.FindByHash(Hex(KeyB))!.Name);

        // Removed: gone. The directory gone altogether: the keys admitted stay.
        volume.Remove("Impact__Auth__Keys__ops__Roles", "Impact__Auth__Keys__ops__Hash");
        watcher.Poll();
        Assert.Null(plan.Keys.FindByHash(Hex(KeyA)));
        var last = plan.Keys;
        Directory.Delete(directory, recursive: true);
        watcher.Poll();
        Assert.Same(last, plan.Keys);
    }

    [Fact]
    public async Task Keys_create_says_how_to_add_the_key_to_the_mounted_secret()
    {
        var (exitCode, output) = await ServerProcess.RunCommandAsync(TimeSpan.FromSeconds(60), "keys", "create", "--name", "ci_ingest", "--roles", "ingest");
        Assert.Equal(0, exitCode);
        var hash = Regex.Match(output, @"Impact__Auth__Keys__ci_ingest__Hash=(sha256:[0-9a-f]{64})").Groups[1].Value;
        Assert.Contains(
            $$$"""kubectl -n impactgrains patch secret impactgrains-api-keys --type=merge -p '{"stringData":{"Impact__Auth__Keys__ci_ingest__Roles":"ingest","Impact__Auth__Keys__ci_ingest__Hash":"{{{hash}}}"}}'""",
            output, StringComparison.Ordinal);
    }
}
