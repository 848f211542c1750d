using System.Text;
using System.Text.Json;

namespace ImpactGrains.Deploy.Tests;

/// <summary>One instruction of a Dockerfile: FROM, RUN, COPY, ENV… with its arguments as written.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments);

/// <summary>A build stage: its FROM and the instructions up to the next FROM.</summary>
public sealed record DockerStage(string Image, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<string> All(string keyword) => Instructions.Where(i => i.Keyword == keyword).Select(i => i.Arguments);

    public string? Last(string keyword) => All(keyword).LastOrDefault();
}

/// <summary>
/// Just enough of the Dockerfile syntax to check the repository's Dockerfile against the manifests: comments, line
/// continuations, stages, ENV pairs and exec-form ENTRYPOINT.
/// </summary>
public sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    public DockerStage Final => Stages[^1];

    public static Dockerfile Load() => Parse(Repository.Read("Dockerfile"));

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<DockerInstruction>();
        var current = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (current.Length == 0 && (line.TrimStart().StartsWith('#') || string.IsNullOrWhiteSpace(line)))
            {
                continue;
            }

            if (current.Length > 0 && line.TrimStart().StartsWith('#'))
            {
                continue; // a comment inside a continued instruction
            }

            if (line.EndsWith('\\'))
            {
                current.Append(line[..^1]).Append(' ');
                continue;
            }

            current.Append(line);
            var complete = current.ToString().Trim();
            current.Clear();
            var space = complete.IndexOfAny([' ', '\t']);
            instructions.Add(space < 0
                ? new DockerInstruction(complete.ToUpperInvariant(), "")
                : new DockerInstruction(complete[..space].ToUpperInvariant(), complete[(space + 1)..].Trim()));
        }

        var stages = new List<DockerStage>();
        List<DockerInstruction>? body = null;
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                var parts = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("--", StringComparison.Ordinal)).ToArray();
                body = [];
                stages.Add(new DockerStage(parts[0], parts.Length >= 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null, body));
            }
            else
            {
                body?.Add(instruction);
            }
        }

        return new Dockerfile(stages);
    }

    /// <summary>The final stage's ENV, in the KEY=VALUE form (quotes removed).</summary>
    public IReadOnlyDictionary<string, string> FinalEnvironment()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var arguments in Final.All("ENV"))
        {
            foreach (var word in Words(arguments))
            {
                var equals = word.IndexOf('=');
                if (equals <= 0)
                {
                    throw new InvalidOperationException($"ENV {arguments}: use the KEY=VALUE form");
                }

                environment[word[..equals]] = word[(equals + 1)..];
            }
        }

        return environment;
    }

    /// <summary>The final stage's exec-form ENTRYPOINT.</summary>
    public IReadOnlyList<string> Entrypoint() =>
        JsonSerializer.Deserialize<string[]>(Final.Last("ENTRYPOINT") ?? throw new InvalidOperationException("no ENTRYPOINT"))
        ?? throw new InvalidOperationException("ENTRYPOINT must be the exec (JSON) form");

    /// <summary>Words split on blanks, with double-quoted parts kept together and their quotes removed.</summary>
    public static IEnumerable<string> Words(string text)
    {
        var word = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (any)
                {
                    yield return word.ToString();
                }

                word.Clear();
                any = false;
            }
            else
            {
                word.Append(c);
                any = true;
            }
        }

        if (any)
        {
            yield return word.ToString();
        }
    }
}
