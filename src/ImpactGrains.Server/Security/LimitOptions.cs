namespace ImpactGrains.Server.Security;

/// <summary>
/// The <c>Impact:Limits</c> configuration section: request rates and stream connections per client. A client is its
/// remote address (IPv6 by /64) and, when the request carries an <c>X-Api-Key</c> header, also that key (hashed):
/// both limits apply, so inventing keys never buys a fresh allowance. Body sizes and events per request are
/// <see cref="Hosting.IngestionOptions"/>.
/// </summary>
public sealed class LimitOptions
{
    public const string Section = "Impact:Limits";

    /// <summary>Switches the rate limits and the streams-per-client limit off (the body and batch limits stay).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Writes (POST, PUT, PATCH, DELETE) a client may make per second, sustained.</summary>
    public int WritesPerSecond { get; set; } = 200;

    /// <summary>
    /// How many writes a client may make at once (the token bucket's size): room for registering a thousand entities
    /// one request each, as bulk loaders and the test suites do.
    /// </summary>
    public int WriteBurst { get; set; } = 2000;

    /// <summary>Reads (GET, HEAD, OPTIONS) a client may make per second, sustained.</summary>
    public int ReadsPerSecond { get; set; } = 2000;

    /// <summary>How many reads a client may make at once: room for a tool polling a thousand entities in a loop.</summary>
    public int ReadBurst { get; set; } = 10_000;

    /// <summary>Open <c>GET /api/stream</c> connections per client on one instance (the instance's own cap is <c>Impact:Stream:MaxClients</c>).</summary>
    public int StreamsPerClient { get; set; } = 50;

    /// <summary>The start-up check; an error message, or null.</summary>
    public string? Validate()
    {
        if (WritesPerSecond < 1 || ReadsPerSecond < 1)
        {
            return "Impact:Limits: WritesPerSecond and ReadsPerSecond must be at least 1 (switch the limits off with Impact:Limits:Enabled=false)";
        }

        if (WriteBurst < 1 || ReadBurst < 1)
        {
            return "Impact:Limits: WriteBurst and ReadBurst must be at least 1";
        }

        return StreamsPerClient < 1 ? "Impact:Limits:StreamsPerClient must be at least 1" : null;
    }
}
