using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ImpactGrains.Deploy.Tests;

/// <summary>
/// deploy-k8s/overlays/dev/create-secrets.sh, run against a stand-in kubectl that records what it is asked to create:
/// the Secrets the dev overlay's pods read, consistent with each other, with fresh values on every run.
/// </summary>
public sealed partial class DevSecretsTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "impactgrains-devsecrets", Guid.NewGuid().ToString("N"));

    public DevSecretsTests()
    {
        Directory.CreateDirectory(directory);
        // Records each call's arguments, one per line after a marker; "get" answers "not found" unless told otherwise.
        File.WriteAllText(Path.Combine(directory, "kubectl"), """
            #!/usr/bin/env bash
            printf '%s\n' "--call--" "$@" >> "$KUBECTL_LOG"
            for a in "$@"; do
              case "$a" in
                --cert=*) cp "${a#--cert=}" "$KUBECTL_LOG.crt" ;;
                --key=*) cp "${a#--key=}" "$KUBECTL_LOG.key" ;;
              esac
            done
            if [ "${3:-}" = "get" ] || [ "${1:-}" = "get" ]; then [ -n "${KUBECTL_HAS_SECRETS:-}" ] && exit 0; exit 1; fi
            exit 0
            """.Replace("\r", "", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(directory, "kubectl"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private async Task<(int ExitCode, string Output, List<List<string>> Calls, string Log)> RunAsync(bool secretsExist = false)
    {
        var log = Path.Combine(directory, $"calls-{Guid.NewGuid():N}.log");
        var info = new ProcessStartInfo("bash", [Repository.File("deploy-k8s", "overlays", "dev", "create-secrets.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["PATH"] = directory + ":" + Environment.GetEnvironmentVariable("PATH");
        info.Environment["KUBECTL_LOG"] = log;
        if (secretsExist)
        {
            info.Environment["KUBECTL_HAS_SECRETS"] = "1";
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var calls = new List<List<string>>();
        foreach (var line in File.Exists(log) ? File.ReadAllLines(log) : [])
        {
            if (line == "--call--")
            {
                calls.Add([]);
            }
            else
            {
                calls[^1].Add(line);
            }
        }

        return (process.ExitCode, output, calls, log);
    }

    /// <summary>(secret, key) → value of every <c>create secret generic … --from-literal=key=value</c>.</summary>
    private static Dictionary<(string Secret, string Key), string> Literals(List<List<string>> calls)
    {
        var literals = new Dictionary<(string, string), string>();
        foreach (var call in calls.Where(c => c.Contains("create") && c.Contains("secret")))
        {
            Assert.Equal("impactgrains-dev", call[call.IndexOf("-n") + 1]);
            var name = call[call.IndexOf("generic") + 1];
            foreach (var literal in call.Where(a => a.StartsWith("--from-literal=", StringComparison.Ordinal)).Select(a => a["--from-literal=".Length..]))
            {
                var equals = literal.IndexOf('=', StringComparison.Ordinal);
                literals[(name, literal[..equals])] = literal[(equals + 1)..];
            }
        }

        return literals;
    }

    [Fact]
    public async Task It_makes_the_secrets_the_dev_pods_read_with_fresh_consistent_values()
    {
        var (exitCode, output, calls, log) = await RunAsync();
        Assert.True(exitCode == 0, output);
        var literals = Literals(calls);

        // Exactly what the rendered dev overlay's pods read.
        var rendered = await Manifests.RenderAsync("dev");
        foreach (var pod in rendered.PodTemplates)
        {
            foreach (var container in pod.Containers)
            {
                foreach (var source in container["envFrom"]?.AsArray() ?? [])
                {
                    if (source!["secretRef"] is { } secret)
                    {
                        Assert.Contains(literals.Keys, k => k.Secret == (string)secret["name"]!);
                    }
                }

                foreach (var entry in container["env"]?.AsArray() ?? [])
                {
                    if (entry!["valueFrom"]?["secretKeyRef"] is { } reference)
                    {
                        Assert.True(literals.ContainsKey(((string)reference["name"]!, (string)reference["key"]!)), $"no {reference}");
                    }
                }
            }

            foreach (var volume in pod.Spec["volumes"]?.AsArray() ?? [])
            {
                if (volume!["secret"]?["secretName"] is { } secretName)
                {
                    Assert.Contains(literals.Keys, k => k.Secret == (string)secretName!);
                }
            }
        }

        // The Ingresses' certificate: a TLS Secret of the name they give, for the host they serve, with its key.
        var ingressTls = rendered.OfKind("Ingress").SelectMany(i => i.Json["spec"]!["tls"]!.AsArray()).ToList();
        var tlsCall = Assert.Single(calls, c => c.Contains("create") && c.Contains("tls"));
        Assert.Equal("impactgrains-dev", tlsCall[tlsCall.IndexOf("-n") + 1]);
        Assert.All(ingressTls, t => Assert.Equal(tlsCall[tlsCall.IndexOf("tls") + 1], (string?)t!["secretName"]));
        using (var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(log + ".crt", log + ".key"))
        {
            Assert.True(certificate.HasPrivateKey);
            foreach (var host in ingressTls.SelectMany(t => t!["hosts"]!.AsArray().Select(h => (string)h!)))
            {
                Assert.True(certificate.MatchesHostname(host), $"the certificate is not for {host}");
            }

            Assert.True(certificate.NotAfter > DateTime.Now.AddDays(300));
        }

        // The connection string reaches the in-cluster PostgreSQL with the user, password and database it is made with.
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(literals[("impactgrains-database", "connection-string")]);
        var service = rendered.Get("Service", "postgres");
        Assert.Equal(service.Name, connection.Host);
        Assert.Equal((int)service.Json["spec"]!["ports"]![0]!["port"]!, connection.Port);
        Assert.Equal(literals[("impactgrains-postgres", "POSTGRES_USER")], connection.Username);
        Assert.Equal(literals[("impactgrains-postgres", "POSTGRES_PASSWORD")], connection.Password);
        Assert.Equal(literals[("impactgrains-postgres", "POSTGRES_DB")], connection.Database);
        Assert.True(connection.Password!.Length >= 32, "a long random password");

        // The printed key is the one whose hash is stored, in the form the server makes.
        var key = PrintedKey().Match(output).Groups[1].Value;
        Assert.Matches("^ig_[A-Za-z0-9_-]{43}$", key);
        Assert.Equal("admin", literals[("impactgrains-api-keys", "Impact__Auth__Keys__operator__Roles")]);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))),
            literals[("impactgrains-api-keys", "Impact__Auth__Keys__operator__Hash")]);
        Assert.DoesNotContain(literals.Values, v => v.Contains(key, StringComparison.Ordinal));

        // Another run makes other values.
        var again = Literals((await RunAsync()).Calls);
        Assert.NotEqual(literals[("impactgrains-postgres", "POSTGRES_PASSWORD")], again[("impactgrains-postgres", "POSTGRES_PASSWORD")]);
        Assert.NotEqual(literals[("impactgrains-api-keys", "Impact__Auth__Keys__operator__Hash")], again[("impactgrains-api-keys", "Impact__Auth__Keys__operator__Hash")]);
    }

    [Fact]
    public async Task It_refuses_to_replace_secrets_that_exist()
    {
        var (exitCode, output, calls, _) = await RunAsync(secretsExist: true);
        Assert.Equal(2, exitCode);
        Assert.Contains("exist already", output, StringComparison.Ordinal);
        Assert.DoesNotContain(calls, c => c.Contains("create"));
    }

    [GeneratedRegex(@"^\s+(ig_\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex PrintedKey();
}
