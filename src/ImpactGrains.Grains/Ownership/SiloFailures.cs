namespace ImpactGrains.Grains.Ownership;

/// <summary>What a failed call to another silo says about that silo.</summary>
public static class SiloFailures
{
    /// <summary>
    /// The silo is gone or not answering (the runtime rejected the message, or it timed out): expected while the cluster
    /// replaces a dead silo, and not a failure of the callee's own work, which it would report itself.
    /// </summary>
    public static bool IsUnreachable(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is OrleansMessageRejectionException or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The call never left this silo (no connection to the callee's), so the callee cannot have done any of it.</summary>
    public static bool NeverSent(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is Orleans.Runtime.Messaging.ConnectionFailedException)
            {
                return true;
            }
        }

        return false;
    }
}
