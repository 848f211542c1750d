using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Security;

/// <summary>
/// Counts the open <c>GET /api/stream</c> connections of each client partition on this instance (see
/// <see cref="ClientIdentity"/>) and refuses one more than <see cref="LimitOptions.StreamsPerClient"/>. The
/// instance-wide cap (<c>Impact:Stream:MaxClients</c>) is the live feed hub's.
/// </summary>
public sealed class StreamConnectionLimiter(IOptions<LimitOptions> options)
{
    private readonly Dictionary<string, int> open = new(StringComparer.Ordinal);

    public int Limit => options.Value.StreamsPerClient;

    /// <summary>Takes a slot in every partition, or in none when one of them is full (<paramref name="full"/>).</summary>
    public bool TryAcquire(IReadOnlyList<string> partitions, out string? full)
    {
        lock (open)
        {
            full = partitions.FirstOrDefault(p => open.GetValueOrDefault(p) >= Limit);
            if (full is not null)
            {
                return false;
            }

            foreach (var partition in partitions)
            {
                open[partition] = open.GetValueOrDefault(partition) + 1;
            }

            return true;
        }
    }

    public void Release(IReadOnlyList<string> partitions)
    {
        lock (open)
        {
            foreach (var partition in partitions)
            {
                if (open.TryGetValue(partition, out var count))
                {
                    if (count <= 1)
                    {
                        open.Remove(partition);
                    }
                    else
                    {
                        open[partition] = count - 1;
                    }
                }
            }
        }
    }

    /// <summary>Open streams in a partition.</summary>
    public int OpenIn(string partition)
    {
        lock (open)
        {
            return open.GetValueOrDefault(partition);
        }
    }
}
