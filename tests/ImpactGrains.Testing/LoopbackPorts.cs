using System.Net;
using System.Net.Sockets;

namespace ImpactGrains.Testing;

/// <summary>
/// Hands out loopback ports for test servers from below the kernel's ephemeral range (32768–60999 on Linux). A port
/// taken from the ephemeral range with "bind to 0" can be reused for an outgoing connection (a PostgreSQL client, an
/// HTTP call) before the server under test binds it, which fails the start with "address already in use".
/// </summary>
public static class LoopbackPorts
{
    private const int First = 20000;
    private const int Count = 12000;

    // A random start per test process keeps parallel test assemblies apart; the bind check skips what is taken.
    private static int next = Random.Shared.Next(Count);

    public static int Next()
    {
        for (var attempt = 0; attempt < Count; attempt++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref next) % Count);
            if (IsFree(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"no free loopback port in {First}–{First + Count - 1}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
