using System.Text.RegularExpressions;
using NATS.Client.Core;

namespace ImpactGrains.Server.Feeds;

/// <summary>
/// The <c>Impact:Feeds:Nats</c> section: where the NATS JetStream feed is, which stream and durable consumer every silo
/// shares, where rejected events go, the credentials, and how much one silo takes on at once. With no
/// <see cref="Url"/> there is no feed.
/// </summary>
public sealed partial class NatsFeedOptions
{
    public const string Section = "Impact:Feeds:Nats";

    /// <summary>The NATS server(s), comma-separated (<c>nats://host:4222</c>, <c>tls://…</c>); unset: no feed.</summary>
    public string? Url { get; set; }

    /// <summary>The JetStream stream the events are read from.</summary>
    public string Stream { get; set; } = "IMPACT_EVENTS";

    /// <summary>The stream's subjects, comma-separated, used when the stream is created.</summary>
    public string Subjects { get; set; } = "impact.events.>";

    /// <summary>Create the stream (file storage, limits retention) when it does not exist.</summary>
    public bool CreateStream { get; set; } = true;

    /// <summary>How long a stream the server creates keeps messages (0: for ever); an existing stream keeps its own limits.</summary>
    public TimeSpan StreamMaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The durable pull consumer every silo shares, so that each message goes to one silo at a time.</summary>
    public string Consumer { get; set; } = "impactgrains";

    /// <summary>Where every rejected event is published, one message each.</summary>
    public string RejectedSubject { get; set; } = "impact.rejected";

    public string? User { get; set; }

    public string? Password { get; set; }

    public string? Token { get; set; }

    /// <summary>A NATS <c>.creds</c> file (a user JWT and its NKey seed), as <c>nsc</c> writes it.</summary>
    public string? CredsFile { get; set; }

    /// <summary>A PEM file of the certificate authorities that sign the NATS server's TLS certificate (tls:// URLs).</summary>
    public string? CaFile { get; set; }

    /// <summary>Messages one silo holds at most: fetched and not yet acknowledged.</summary>
    public int MaxInFlight { get; set; } = 64;

    /// <summary>Batches of messages one silo ingests at the same time; each holds at most MaxInFlight / Concurrency messages.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>How long JetStream waits for an acknowledgement before it redelivers; kept alive while a batch is working.</summary>
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After a storage outage: the delay of the negative acknowledgement, and this silo's pause before it fetches again.</summary>
    public TimeSpan NakDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the consumer's pending count (the lag) is read for /metrics and /health/ready.</summary>
    public TimeSpan LagInterval { get; set; } = TimeSpan.FromSeconds(5);

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);

    public IReadOnlyList<string> SubjectList =>
        Subjects.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>What is wrong with the section, in one line, or null.</summary>
    public string? Validate()
    {
        if (!Enabled)
        {
            return null;
        }

        var (servers, fromUrl, urlError) = SplitUrl(Url!);
        if (urlError is not null)
        {
            return $"{Section}:Url: {urlError}";
        }

        if (!NamePattern().IsMatch(Stream))
        {
            return $"{Section}:Stream: '{Stream}' is not a stream name (letters, digits, '-' and '_')";
        }

        if (!NamePattern().IsMatch(Consumer))
        {
            return $"{Section}:Consumer: '{Consumer}' is not a consumer name (letters, digits, '-' and '_')";
        }

        if (SubjectList.Count == 0)
        {
            return $"{Section}:Subjects: give at least one subject, such as impact.events.>";
        }

        foreach (var subject in SubjectList)
        {
            if (!IsSubject(subject, wildcards: true))
            {
                return $"{Section}:Subjects: '{subject}' is not a NATS subject";
            }
        }

        if (!IsSubject(RejectedSubject, wildcards: false))
        {
            return $"{Section}:RejectedSubject: '{RejectedSubject}' is not a NATS subject without wildcards";
        }

        if (SubjectList.FirstOrDefault(s => Matches(s, RejectedSubject)) is { } covering)
        {
            return $"{Section}:RejectedSubject: '{RejectedSubject}' is inside the stream's subject '{covering}', so rejected events would be consumed again; choose a subject outside it";
        }

        var user = fromUrl.User ?? User;
        var password = fromUrl.Password ?? Password;
        var token = fromUrl.Token ?? Token;
        if ((fromUrl.User is not null || fromUrl.Token is not null) && (User is not null || Password is not null || Token is not null))
        {
            return $"{Section}: the URL carries credentials and User, Password or Token are set too; give them once";
        }

        if (string.IsNullOrEmpty(user) != string.IsNullOrEmpty(password))
        {
            return $"{Section}: User and Password go together";
        }

        var ways = (user is null ? 0 : 1) + (token is null ? 0 : 1) + (CredsFile is null ? 0 : 1);
        if (ways > 1)
        {
            return $"{Section}: give one kind of credentials: User and Password, Token, or CredsFile";
        }

        if (CredsFile is not null && !File.Exists(CredsFile))
        {
            return $"{Section}:CredsFile: '{CredsFile}' does not exist";
        }

        if (CaFile is not null && !File.Exists(CaFile))
        {
            return $"{Section}:CaFile: '{CaFile}' does not exist";
        }

        if (MaxInFlight < 1 || Concurrency < 1 || Concurrency > MaxInFlight)
        {
            return $"{Section}: MaxInFlight must be at least 1 and Concurrency from 1 to MaxInFlight";
        }

        if (AckWait < TimeSpan.FromSeconds(1) || NakDelay < TimeSpan.Zero || LagInterval < TimeSpan.FromMilliseconds(100) || StreamMaxAge < TimeSpan.Zero)
        {
            return $"{Section}: AckWait must be at least 1 second, NakDelay and StreamMaxAge not negative, LagInterval at least 100 ms";
        }

        return servers.Count == 0 ? $"{Section}:Url: no server given" : null;
    }

    /// <summary>The client's options: the servers without credentials, which go to the authentication options only.</summary>
    public NatsOpts ToNatsOpts(string clientName, Microsoft.Extensions.Logging.ILoggerFactory loggerFactory)
    {
        var (servers, fromUrl, _) = SplitUrl(Url!);
        var auth = NatsAuthOpts.Default with
        {
            Username = fromUrl.User ?? User,
            Password = fromUrl.Password ?? Password,
            Token = fromUrl.Token ?? Token,
            CredsFile = CredsFile,
        };
        var tls = NatsTlsOpts.Default;
        if (CaFile is not null)
        {
            tls = tls with { CaFile = CaFile };
        }

        return NatsOpts.Default with
        {
            Url = string.Join(',', servers),
            Name = clientName,
            AuthOpts = auth,
            TlsOpts = tls,
            LoggerFactory = loggerFactory,
            // The feed reconnects for as long as the silo runs; readiness reports it degraded meanwhile.
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(200),
            ReconnectWaitMax = TimeSpan.FromSeconds(5),
        };
    }

    /// <summary>The servers, for logs and health: scheme, host and port, never credentials.</summary>
    public string DisplayServers => Enabled ? string.Join(',', SplitUrl(Url!).Servers) : "";

    private readonly record struct UrlCredentials(string? User, string? Password, string? Token);

    /// <summary>
    /// Splits the comma-separated URL into servers without user information, and the credentials one of them carried
    /// (<c>nats://user:password@host</c> or <c>nats://token@host</c>), so that no credential reaches a log.
    /// </summary>
    private static (List<string> Servers, UrlCredentials Credentials, string? Error) SplitUrl(string url)
    {
        var servers = new List<string>();
        var credentials = new UrlCredentials(null, null, null);
        foreach (var part in url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var text = part.Contains("://", StringComparison.Ordinal) ? part : "nats://" + part;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls" or "ws" or "wss") || string.IsNullOrEmpty(uri.Host))
            {
                // The text may carry a password: name only what is wrong.
                return (servers, credentials, "not a NATS server address such as nats://nats:4222 (schemes nats, tls, ws, wss)");
            }

            if (uri.UserInfo.Length > 0)
            {
                var info = uri.UserInfo.Split(':', 2);
                credentials = info.Length == 2
                    ? new UrlCredentials(Uri.UnescapeDataString(info[0]), Uri.UnescapeDataString(info[1]), null)
                    : new UrlCredentials(null, null, Uri.UnescapeDataString(info[0]));
            }

            var port = uri.IsDefaultPort || uri.Port < 0 ? (uri.Scheme is "ws" ? 80 : uri.Scheme is "wss" ? 443 : 4222) : uri.Port;
            servers.Add($"{uri.Scheme}://{uri.Host}:{port}{(uri.AbsolutePath == "/" ? "" : uri.AbsolutePath)}");
        }

        return (servers, credentials, null);
    }

    /// <summary>A subject: dot-separated tokens without spaces; with wildcards, '*' as a token and '>' as the last one.</summary>
    internal static bool IsSubject(string subject, bool wildcards)
    {
        if (string.IsNullOrEmpty(subject) || subject.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return false;
        }

        var tokens = subject.Split('.');
        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i];
            if (token.Length == 0)
            {
                return false;
            }

            if (token.Contains('*') || token.Contains('>'))
            {
                if (!wildcards || !(token == "*" || (token == ">" && i == tokens.Length - 1)))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Whether the subject filter (with wildcards) matches a literal subject.</summary>
    internal static bool Matches(string filter, string subject)
    {
        var f = filter.Split('.');
        var s = subject.Split('.');
        for (var i = 0; i < f.Length; i++)
        {
            if (f[i] == ">")
            {
                return s.Length > i;
            }

            if (i >= s.Length || (f[i] != "*" && f[i] != s[i]))
            {
                return false;
            }
        }

        return f.Length == s.Length;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,255}$")]
    private static partial Regex NamePattern();
}
