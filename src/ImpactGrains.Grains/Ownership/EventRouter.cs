using System.Runtime.InteropServices;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage;
using Microsoft.Extensions.Logging;

namespace ImpactGrains.Grains.Ownership;

/// <summary>
/// Sends a request's valid events to the silos that own their entities: the local share straight to this silo's log
/// writer, every other silo's share in one call to its <see cref="IEventWriterGrain"/>. With one silo it is a direct
/// append; with many, each entity is written by one silo only, so writers never contend for an entity's numbering.
/// An owner that cannot be reached (it died and the cluster has not yet declared it dead) does not stop ingestion: this
/// silo writes that share itself, which the log keeps correct (an id is logged once, an entity's sequence has no gaps
/// whoever writes it); only the locality is lost until the membership settles.
/// </summary>
public sealed partial class EventRouter(
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    IGrainFactory grains,
    OwnedEventAppender appender,
    ILogger<EventRouter> logger)
{
    /// <param name="Writers">Each silo's <see cref="IEventWriterGrain"/>, in the order of <paramref name="Silos"/>.</param>
    private sealed record ActiveSilos(MembershipVersion Version, SiloAddress[] Silos, ulong[] Hashes, IEventWriterGrain[] Writers);

    private ActiveSilos? active;

    private readonly WarningThrottle unreachableWarnings = new(TimeSpan.FromSeconds(1));

    /// <summary>The active silos as this silo sees them, with their hashes; recomputed when the membership changes.</summary>
    private ActiveSilos Active()
    {
        var snapshot = membership.CurrentSnapshot;
        if (active is { } known && known.Version == snapshot.Version)
        {
            return known;
        }

        var silos = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToArray();
        if (silos.Length == 0)
        {
            silos = [localSilo.SiloAddress]; // still joining: it owns what it is asked to write
        }

        return active = new ActiveSilos(snapshot.Version, silos, silos.Select(EntityOwnership.Hash).ToArray(),
            silos.Select(s => grains.GetGrain<IEventWriterGrain>(s.ToParsableString())).ToArray());
    }

    /// <summary>
    /// Each event's entity sequence, 0 for a duplicate, or <see cref="CommittedElsewhere"/>; returns once every share is
    /// committed.
    /// </summary>
    public async Task<long[]> AppendAsync(IReadOnlyList<ImpactEvent> events, CancellationToken cancellationToken = default)
    {
        var silos = Active();
        if (silos.Silos.Length == 1 || events.Count == 0)
        {
            return await appender.AppendAsync(events, cancellationToken);
        }

        var shares = new Dictionary<int, (List<ImpactEvent> Events, List<int> Positions)>();
        for (var i = 0; i < events.Count; i++)
        {
            var owner = EntityOwnership.Owner(EntityOwnership.Hash(events[i].Entity), silos.Hashes);
            ref var share = ref CollectionsMarshal.GetValueRefOrAddDefault(shares, owner, out var exists);
            if (!exists)
            {
                share = ([], []);
            }

            share.Events.Add(events[i]);
            share.Positions.Add(i);
        }

        var sequences = new long[events.Count];
        await Task.WhenAll(shares.Select(async share =>
        {
            var written = await AppendShareAsync(silos, share.Key, share.Value.Events, cancellationToken);
            for (var j = 0; j < written.Length; j++)
            {
                sequences[share.Value.Positions[j]] = written[j];
            }
        }));
        return sequences;
    }

    private async Task<long[]> AppendShareAsync(ActiveSilos silos, int ownerIndex, List<ImpactEvent> events, CancellationToken cancellationToken)
    {
        var owner = silos.Silos[ownerIndex];
        if (owner.Equals(localSilo.SiloAddress))
        {
            return await appender.AppendAsync(events, cancellationToken);
        }

        try
        {
            return await silos.Writers[ownerIndex].AppendAsync(new OwnedEvents(events)).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (SiloFailures.IsUnreachable(ex))
        {
            if (unreachableWarnings.ShouldLog(out var heldBack))
            {
                LogOwnerUnreachable(owner, events.Count, ex.GetType().Name, heldBack);
            }

            var written = await appender.AppendAsync(events, cancellationToken);
            if (!SiloFailures.NeverSent(ex))
            {
                // The owner may have committed some of these before it went: this silo then finds them logged. Either
                // way each is in the log exactly once, and this request is what put it there, so they answer as
                // accepted (sequence unknown here) rather than as duplicates of an earlier request.
                for (var i = 0; i < written.Length; i++)
                {
                    written[i] = written[i] == 0 ? CommittedElsewhere : written[i];
                }
            }

            return written;
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or EventLogUnavailableException))
        {
            // Nothing the owner did not commit was acknowledged; a retry is safe (ids are idempotent).
            throw new EventLogUnavailableException($"the silo that owns {events.Count} of these events could not commit them", ex);
        }
    }

    /// <summary>
    /// In <see cref="AppendAsync"/>'s answer: committed by this request, but its sequence is not known here (the owner
    /// died answering; the id was logged either by it or by this silo's own write after it).
    /// </summary>
    public const long CommittedElsewhere = -1;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Owner} could not be reached ({Failure}); this silo writes its share of {Count} events itself ({HeldBack} more such shares since the last warning)")]
    private partial void LogOwnerUnreachable(SiloAddress owner, int count, string failure, int heldBack);
}
