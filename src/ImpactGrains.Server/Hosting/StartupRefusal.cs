namespace ImpactGrains.Server.Hosting;

/// <summary>How the server refuses a bad setup: one line on standard error and exit code 2, before anything starts.</summary>
public static class StartupRefusal
{
    public static void Exit(string message)
    {
        Console.Error.WriteLine($"ImpactGrains.Server: refusing to start: {message}");
        Environment.Exit(2);
    }
}
