using ImpactGrains.Cli;
using Spectre.Console;

var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
if (Console.IsOutputRedirected)
{
    // Piped or captured: wide enough that tables do not wrap ids and numbers.
    console.Profile.Width = 200;
}

return await ImpactCli.RunAsync(args, new CliEnvironment { Out = console, Error = Console.Error, HandleTermination = true });
