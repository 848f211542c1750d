using System.Text;

namespace ImpactGrains.Grains.Ownership;

/// <summary>
/// Which silo owns an entity: rendezvous (highest-random-weight) hashing of the entity over the active silos, so that a
/// silo leaving moves only its own entities and a silo joining takes only its share from the others. The owner writes
/// the entity's events to the log (so two silos never number the same entity's events at once) and hosts its grain (so a
/// commit reaches the grain without crossing silos). Both sides compute it from the same function over the same set:
/// ingestion from the membership it sees, placement from the silos Orleans offers it. While a membership change spreads
/// the two views can differ for a moment; that costs locality and, at worst, a retried commit (the log's keys refuse a
/// double), never an event.
/// </summary>
public static class EntityOwnership
{
    /// <summary>FNV-1a over the id's UTF-8 bytes: stable across processes and runtimes, unlike string.GetHashCode.</summary>
    public static ulong Hash(ReadOnlySpan<byte> utf8)
    {
        var hash = 14695981039346656037ul;
        foreach (var b in utf8)
        {
            hash = (hash ^ b) * 1099511628211ul;
        }

        return hash;
    }

    public static ulong Hash(string entity)
    {
        Span<byte> utf8 = entity.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(entity.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(entity.Length)];
        var length = Encoding.UTF8.GetBytes(entity, utf8);
        return Hash(utf8[..length]);
    }

    /// <summary>A silo's own hash, from its address and generation (a restarted silo is a new one).</summary>
    public static ulong Hash(SiloAddress silo) => Hash(Encoding.UTF8.GetBytes(silo.ToParsableString()));

    /// <summary>The owner among <paramref name="silos"/> (not empty) with their <paramref name="siloHashes"/>.</summary>
    public static int Owner(ulong entityHash, ReadOnlySpan<ulong> siloHashes)
    {
        var (best, bestScore) = (0, 0ul);
        for (var i = 0; i < siloHashes.Length; i++)
        {
            var score = Mix(entityHash ^ siloHashes[i]);
            if (i == 0 || score > bestScore)
            {
                (best, bestScore) = (i, score);
            }
        }

        return best;
    }

    public static SiloAddress Owner(ulong entityHash, IReadOnlyList<SiloAddress> silos)
    {
        Span<ulong> hashes = stackalloc ulong[silos.Count];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = Hash(silos[i]);
        }

        return silos[Owner(entityHash, hashes)];
    }

    /// <summary>SplitMix64's finalizer: every input bit moves every output bit, so XOR-combined hashes rank fairly.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
        return z ^ (z >> 31);
    }
}
