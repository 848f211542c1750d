namespace ImpactGrains.Server.Security;

/// <summary>
/// Keeps the admitted keys in step with <c>Impact:Auth:KeysDirectory</c> (<see cref="ApiKeyDirectory"/>) while the
/// server runs: it reads the directory every <see cref="PollInterval"/> and, when anything changed, swaps the
/// <see cref="AccessPlan"/>'s key ring in one reference write, so requests see the old ring or the new one and none
/// fails in between. Requests pay nothing for it: they look their key up in whatever ring is current.
/// <para>
/// Polling rather than a file watcher: a mounted Secret changes by swapping a link to a new folder, which file
/// notifications report unreliably, and reading a few small files every few seconds costs nothing worth saving.
/// </para>
/// <para>
/// A problem (a file that is not a key's, a malformed hash, an unknown role, half of a pair) is logged once, when it
/// appears, and only that file or key is ignored. A key that was admitted and whose files turn malformed stays as it
/// was until they are fixed or removed, so a botched edit never locks its holder out; removing a key's files removes
/// it. The keys of <c>Impact:Auth:Keys</c> stay admitted throughout, and a key there wins over a directory entry of the
/// same name.
/// </para>
/// </summary>
public sealed partial class ApiKeyDirectoryWatcher : BackgroundService
{
    /// <summary>How often the directory is read. With the kubelet's own delay the change lands within about a minute.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    private readonly string directory;
    private readonly ApiKeyRing configured;
    private readonly AccessPlan plan;
    private ILogger logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    // Only the poll (one at a time) touches these.
    private Dictionary<string, DirectoryKey> admitted = new(StringComparer.OrdinalIgnoreCase);
    private HashSet<string> reported = new(StringComparer.Ordinal);
    private List<string> pending = [];
    private string? fingerprint;
    private string? unreadable;

    private ApiKeyDirectoryWatcher(string directory, ApiKeyRing configured, AccessPlan plan)
    {
        this.directory = directory;
        this.configured = configured;
        this.plan = plan;
    }

    public string Directory => directory;

    /// <summary>
    /// The first reading, at start-up, before anything listens: the keys to start with, or why the directory cannot be
    /// used at all (it does not exist or cannot be read), which stops the server.
    /// </summary>
    public static ApiKeyRing ReadInitial(string directory, ApiKeyRing configured, out KeyDirectoryReading? reading, out string? error)
    {
        error = null;
        reading = null;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                reading = ApiKeyDirectory.Read(directory);
                break;
            }
            catch (KeyDirectoryChangingException) when (attempt < 20)
            {
                Thread.Sleep(100); // being updated this very moment
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error = $"{AuthOptions.Section}:KeysDirectory: '{directory}' cannot be read: {ex.Message}";
                return configured;
            }
        }

        return Merge(configured, reading.Keys, reading.Problems, previous: null, out _);
    }

    /// <summary>The watcher for a plan whose ring came from <see cref="ReadInitial"/> with this reading.</summary>
    public static ApiKeyDirectoryWatcher Create(string directory, ApiKeyRing configured, AccessPlan plan, KeyDirectoryReading initial)
    {
        var watcher = new ApiKeyDirectoryWatcher(directory, configured, plan);
        watcher.Apply(initial, logChanges: false);
        return watcher;
    }

    /// <summary>Starts logging: the problems of the first reading now (the logger did not exist then), later ones as they appear.</summary>
    public void Attach(ILoggerFactory loggers)
    {
        logger = loggers.CreateLogger<ApiKeyDirectoryWatcher>();
        foreach (var problem in pending)
        {
            LogProblem(logger, directory, problem);
        }

        pending = [];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                Poll();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Never let one bad reading end the watching: the keys stay as they are until the next.
                LogPollFailed(logger, ex, directory);
            }
        }
    }

    /// <summary>One reading of the directory; public for tests that do not want to wait for the timer.</summary>
    public void Poll()
    {
        KeyDirectoryReading reading;
        try
        {
            reading = ApiKeyDirectory.Read(directory);
        }
        catch (KeyDirectoryChangingException)
        {
            return; // mid-update: the next poll sees the finished state
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (unreadable != ex.Message)
            {
                unreadable = ex.Message;
                LogUnreadable(logger, directory, ex.Message, plan.Keys.Count);
            }

            return;
        }

        if (unreadable is not null)
        {
            unreadable = null;
            LogReadableAgain(logger, directory);
        }

        if (reading.Fingerprint == fingerprint)
        {
            return;
        }

        Apply(reading, logChanges: true);
    }

    private void Apply(KeyDirectoryReading reading, bool logChanges)
    {
        var before = plan.Keys;
        var ring = Merge(configured, reading.Keys, reading.Problems, admitted, out var merged);
        var problems = Describe(reading.Problems, merged.Keys, ring).Concat(merged.Notes).ToList();
        var current = new HashSet<string>(problems, StringComparer.Ordinal);
        foreach (var problem in problems.Where(p => !reported.Contains(p)))
        {
            if (logChanges)
            {
                LogProblem(logger, directory, problem);
            }
            else
            {
                pending.Add(problem);
            }
        }

        reported = current;
        admitted = merged.Keys;
        fingerprint = reading.Fingerprint;
        if (!logChanges)
        {
            return;
        }

        plan.Replace(ring);
        var (added, removed, changed) = Compare(before, ring);
        if (added.Count + removed.Count + changed.Count > 0)
        {
            LogChanged(logger, directory, List(added), List(removed), List(changed), ring.Count, ring.Describe());
            if (ring.Count == 0)
            {
                LogNoKeysLeft(logger);
            }
        }
    }

    private sealed record MergeResult(Dictionary<string, DirectoryKey> Keys, List<string> Notes);

    /// <summary>
    /// The configured keys plus the directory's: a well-formed entry as read; a malformed one as it was admitted before
    /// (<paramref name="previous"/>), or not at all; an entry named like a configured key, or holding the same key as
    /// a configured key, an entry admitted before or (among new ones) an entry of an earlier name, is left out.
    /// </summary>
    private static ApiKeyRing Merge(ApiKeyRing configured, IReadOnlyDictionary<string, DirectoryKey> read, IReadOnlyList<KeyFileProblem> problems,
        IReadOnlyDictionary<string, DirectoryKey>? previous, out MergeResult result)
    {
        var keys = new Dictionary<string, DirectoryKey>(read, StringComparer.OrdinalIgnoreCase);
        foreach (var name in problems.Select(p => p.KeyName).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (!keys.ContainsKey(name) && previous?.GetValueOrDefault(name) is { } kept)
            {
                keys[name] = kept;
            }
        }

        var notes = new List<string>();
        var byHash = new Dictionary<string, ApiKey>(configured.ByHash, StringComparer.Ordinal);
        var configuredNames = new HashSet<string>(configured.Keys.Select(k => k.Name), StringComparer.OrdinalIgnoreCase);
        // Of two names for one key, the one admitted already keeps it: adding a copy never takes a key from its holder.
        var order = keys.Values
            .OrderBy(k => previous?.GetValueOrDefault(k.Name) is { } was && was.Hash == k.Hash ? 0 : 1)
            .ThenBy(k => k.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
        foreach (var key in order)
        {
            if (configuredNames.Contains(key.Name))
            {
                notes.Add($"the key '{key.Name}' is also configured in {AuthOptions.Section}:Keys, which stands: its files are ignored");
                keys.Remove(key.Name);
            }
            else if (!byHash.TryAdd(key.Hash, new ApiKey(key.Name, key.Roles)))
            {
                notes.Add($"the key '{key.Name}' is the same key as '{byHash[key.Hash].Name}': its files are ignored");
                keys.Remove(key.Name);
            }
        }

        result = new MergeResult(keys, notes);
        return ApiKeyRing.Of(byHash);
    }

    /// <summary>One line per problem, saying what became of the key.</summary>
    private static List<string> Describe(IReadOnlyList<KeyFileProblem> problems, IReadOnlyDictionary<string, DirectoryKey> kept, ApiKeyRing ring)
    {
        var lines = new List<string>();
        foreach (var problem in problems)
        {
            var outcome = problem.KeyName is { } name && kept.ContainsKey(name) && ring.Keys.Any(k => k.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ? $"the key '{name}' stays as it was admitted until this is fixed or its files are removed"
                : problem.KeyName is { } ignored ? $"the key '{ignored}' is ignored" : "ignored";
            lines.Add($"{problem.Subject} {problem.Message}; {outcome}");
        }

        return lines;
    }

    private static (List<string> Added, List<string> Removed, List<string> Changed) Compare(ApiKeyRing before, ApiKeyRing after)
    {
        static Dictionary<string, (ApiRole, string)> ByName(ApiKeyRing ring) =>
            ring.ByHash.ToDictionary(p => p.Value.Name, p => (p.Value.Roles, p.Key), StringComparer.OrdinalIgnoreCase);

        var old = ByName(before);
        var now = ByName(after);
        return (
            now.Keys.Where(n => !old.ContainsKey(n)).Order(StringComparer.Ordinal).ToList(),
            old.Keys.Where(n => !now.ContainsKey(n)).Order(StringComparer.Ordinal).ToList(),
            now.Keys.Where(n => old.TryGetValue(n, out var o) && o != now[n]).Order(StringComparer.Ordinal).ToList());
    }

    private static string List(List<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);

    [LoggerMessage(Level = LogLevel.Warning, Message = "API keys directory {Directory}: {Problem}")]
    private static partial void LogProblem(ILogger logger, string directory, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "API keys from {Directory} changed: added {Added}; removed {Removed}; changed {Changed}. Now {Count} admitted: {Keys}")]
    private static partial void LogChanged(ILogger logger, string directory, string added, string removed, string changed, int count, string keys);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API key is admitted any more: every request that needs a key is refused until one is added")]
    private static partial void LogNoKeysLeft(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "API keys directory {Directory} cannot be read ({Reason}); the {Count} keys admitted stay until it can")]
    private static partial void LogUnreadable(ILogger logger, string directory, string reason, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "API keys directory {Directory} can be read again")]
    private static partial void LogReadableAgain(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reading the API keys directory {Directory} failed; the keys admitted stay as they are")]
    private static partial void LogPollFailed(ILogger logger, Exception exception, string directory);
}
