using System.Security.Cryptography;
using System.Text;

namespace ImpactGrains.Storage;

/// <summary>
/// The 128-bit key on which the log detects a duplicate event id: MD5 of the id's UTF-8 bytes. Fixed-size and
/// collation-free, so the duplicate index is small and compares bytes; MD5 because PostgreSQL computes the same value
/// itself (<c>md5(event_id)::uuid</c>), which is how a migration keys the rows already logged. It is a key, not a
/// security measure: ids come from the producers, who gain nothing by colliding with themselves.
/// </summary>
public static class EventIdHash
{
    public const int Length = 16;

    public static void Compute(string eventId, Span<byte> destination)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(eventId.Length)];
        var length = Encoding.UTF8.GetBytes(eventId, utf8);
        MD5.HashData(utf8[..length], destination);
    }

    public static byte[] Of(string eventId)
    {
        var hash = new byte[Length];
        Compute(eventId, hash);
        return hash;
    }

    /// <summary>The hash as PostgreSQL's uuid holds it (the digest's bytes in order).</summary>
    public static Guid AsUuid(string eventId)
    {
        Span<byte> hash = stackalloc byte[Length];
        Compute(eventId, hash);
        return new Guid(hash, bigEndian: true);
    }
}
