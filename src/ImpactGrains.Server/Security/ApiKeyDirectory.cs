using System.Text;
using System.Text.RegularExpressions;

namespace ImpactGrains.Server.Security;

/// <summary>One key as a keys directory gives it: its name, roles and hash (lower-case hex, without the prefix).</summary>
public sealed record DirectoryKey(string Name, ApiRole Roles, string Hash);

/// <summary>What is wrong with one file (or one key's pair of files) of a keys directory.</summary>
/// <param name="Subject">The file name, or the key name when a file of its pair is missing.</param>
/// <param name="KeyName">The key the problem belongs to, or null for a file that is no key's.</param>
/// <param name="Message">What is wrong, for the log.</param>
public sealed record KeyFileProblem(string Subject, string? KeyName, string Message);

/// <summary>One reading of a keys directory.</summary>
/// <param name="Keys">The well-formed keys, by name (case-insensitive, as configuration keys are).</param>
/// <param name="Problems">Every file that was ignored, and why.</param>
/// <param name="Fingerprint">The names and contents of every file read: equal fingerprints, equal readings.</param>
public sealed record KeyDirectoryReading(IReadOnlyDictionary<string, DirectoryKey> Keys, IReadOnlyList<KeyFileProblem> Problems, string Fingerprint);

/// <summary>
/// Reads API keys from a directory in the key-per-file convention, as Kubernetes mounts a Secret: one file per
/// configuration entry, named like the environment variable (<c>Impact__Auth__Keys__&lt;name&gt;__Hash</c> and
/// <c>…__Roles</c>), holding its value. Entries whose names start with a dot are skipped (the kubelet's <c>..data</c>
/// link and its timestamped folders); the files themselves may be links (they are, in a mounted Secret). A file that
/// is not a key's, a key with one of its two files, a malformed hash or an unknown role is a problem of that file or
/// key alone: it is reported and ignored, and every other key is read as usual.
/// </summary>
public static partial class ApiKeyDirectory
{
    public const string FilePrefix = "Impact__Auth__Keys__";

    /// <summary>A key file holds a hash or a few role names; anything larger is not one (and is not read whole).</summary>
    public const int MaxFileBytes = 4096;

    /// <summary>
    /// Reads the directory once. Throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when the
    /// directory itself cannot be read, and <see cref="KeyDirectoryChangingException"/> when a file disappeared between
    /// listing and reading it (the directory is being updated: read it again a moment later).
    /// </summary>
    public static KeyDirectoryReading Read(string directory)
    {
        var contents = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        var problems = new List<KeyFileProblem>();
        foreach (var path in Directory.EnumerateFileSystemEntries(directory))
        {
            var file = Path.GetFileName(path);
            if (file.StartsWith('.'))
            {
                continue;
            }

            if (Directory.Exists(path))
            {
                problems.Add(new KeyFileProblem(file, null, "is a directory, not a key file"));
                continue;
            }

            try
            {
                contents[file] = ReadSmall(path);
                if (contents[file] is null)
                {
                    problems.Add(new KeyFileProblem(file, KeyNameOf(file), $"is larger than {MaxFileBytes} bytes"));
                }
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new KeyDirectoryChangingException(file, ex);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add(new KeyFileProblem(file, KeyNameOf(file), $"cannot be read: {ex.Message}"));
                contents[file] = null;
            }
        }

        var fingerprint = new StringBuilder();
        foreach (var (file, content) in contents)
        {
            fingerprint.Append(file).Append('\0').Append(content ?? "\u0001unreadable or too large").Append('\0');
        }

        return new KeyDirectoryReading(Parse(contents, problems), problems, fingerprint.ToString());
    }

    private static Dictionary<string, DirectoryKey> Parse(SortedDictionary<string, string?> contents, List<KeyFileProblem> problems)
    {
        var pairs = new SortedDictionary<string, (string? HashFile, string? Hash, string? RolesFile, string? Roles)>(StringComparer.OrdinalIgnoreCase);
        var broken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (file, content) in contents)
        {
            var match = KeyFileName().Match(file);
            if (!match.Success)
            {
                problems.Add(new KeyFileProblem(file, null, $"is not a key file (they are named {FilePrefix}<name>__Hash and {FilePrefix}<name>__Roles)"));
                continue;
            }

            var name = match.Groups["name"].Value;
            if ((name.Contains("__", StringComparison.Ordinal) ? "a key's name has no double underscore" : ApiKeyRing.NameError(name)) is { } nameError)
            {
                problems.Add(new KeyFileProblem(file, null, nameError));
                continue;
            }

            if (content is null)
            {
                broken.Add(name); // unreadable or too large: reported already
                continue;
            }

            var isHash = match.Groups["field"].Value.Equals("Hash", StringComparison.OrdinalIgnoreCase);
            var pair = pairs.GetValueOrDefault(name);
            if ((isHash ? pair.HashFile : pair.RolesFile) is { } twin)
            {
                problems.Add(new KeyFileProblem(file, name, $"and {twin} are the same entry (key names are case-insensitive)"));
                broken.Add(name);
                continue;
            }

            pairs[name] = isHash ? pair with { HashFile = file, Hash = content.Trim() } : pair with { RolesFile = file, Roles = content.Trim() };
        }

        var keys = new Dictionary<string, DirectoryKey>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, pair) in pairs)
        {
            if (broken.Contains(name))
            {
                continue;
            }

            if (pair.HashFile is null || pair.RolesFile is null)
            {
                var missing = $"{FilePrefix}{name}__{(pair.HashFile is null ? "Hash" : "Roles")}";
                problems.Add(new KeyFileProblem(pair.HashFile ?? pair.RolesFile!, name, $"has no {missing} beside it"));
                continue;
            }

            if (!ApiKeyRing.IsHash(pair.Hash!))
            {
                problems.Add(new KeyFileProblem(pair.HashFile, name,
                    $"expected '{ApiKeyRing.HashPrefix}' and 64 hex digits, the SHA-256 of the key (ImpactGrains.Server keys create prints it)"));
                continue;
            }

            if (ApiKeyRing.ParseRoles(pair.Roles, out var roles) is { } rolesError)
            {
                problems.Add(new KeyFileProblem(pair.RolesFile, name, rolesError));
                continue;
            }

            keys[name] = new DirectoryKey(name, roles, pair.Hash![ApiKeyRing.HashPrefix.Length..].ToLowerInvariant());
        }

        return keys;
    }

    private static string? KeyNameOf(string file) => KeyFileName().Match(file) is { Success: true } match ? match.Groups["name"].Value : null;

    /// <summary>The file's text, or null when it is larger than <see cref="MaxFileBytes"/> (it is not read further).</summary>
    private static string? ReadSmall(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        var buffer = new byte[MaxFileBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
        }

        return length > MaxFileBytes ? null : Encoding.UTF8.GetString(buffer, 0, length);
    }

    [GeneratedRegex(@"\AImpact__Auth__Keys__(?<name>.+)__(?<field>Hash|Roles)\z", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyFileName();
}

/// <summary>A file of a keys directory disappeared while it was read: the directory is being updated.</summary>
public sealed class KeyDirectoryChangingException(string file, Exception inner)
    : IOException($"{file} disappeared while the keys directory was read", inner);
