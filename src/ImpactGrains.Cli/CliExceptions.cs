namespace ImpactGrains.Cli;

/// <summary>A command line that cannot be carried out as written: exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>A failure with a message for the user (an HTTP error, a bad file): exit code 1.</summary>
public class CliFailure(string message) : Exception(message);
