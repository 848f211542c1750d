using Spectre.Console;

namespace ImpactGrains.Cli;

/// <summary>Where the CLI writes and what it reads from its surroundings; tests pass captured writers.</summary>
public sealed class CliEnvironment
{
    /// <summary>Standard output: tables, progress, watch lines.</summary>
    public required IAnsiConsole Out { get; init; }

    /// <summary>Standard error: one line per error, and notices (retries, reconnections).</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Environment variables (IMPACT_URL, IMPACT_API_KEY).</summary>
    public Func<string, string?> GetVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>Whether Ctrl+C and SIGTERM cancel the running command (a real process); off when run in-process.</summary>
    public bool HandleTermination { get; init; }

    /// <summary>Whether ingest shows a progress bar; it is never shown on a non-interactive console.</summary>
    public bool ShowProgress { get; init; } = true;

    internal void WriteError(string message) => Error.WriteLine(OneLine(message));

    internal static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
