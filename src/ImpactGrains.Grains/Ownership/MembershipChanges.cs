namespace ImpactGrains.Grains.Ownership;

/// <summary>
/// A task that completes at the cluster's next membership change. Work that backs off after a call to a silo that
/// stopped answering (a delivery to an entity whose grain lived there) waits for whichever comes first, its backoff or
/// this: the moment the cluster declares the silo dead the grain can be activated on its new owner, and a retry that
/// still had seconds of backoff to sleep would leave the acknowledgements that wait for it stalled that long.
/// </summary>
public sealed class MembershipChanges : IDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MembershipChanges(IClusterMembershipService membership)
    {
        _ = WatchAsync(membership, stopping.Token);
    }

    /// <summary>Completes when the membership changes after this was read (never faults).</summary>
    public Task Next => Volatile.Read(ref next).Task;

    private async Task WatchAsync(IClusterMembershipService membership, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var _ in membership.MembershipUpdates.WithCancellation(cancellationToken))
            {
                Interlocked.Exchange(ref next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed with the silo.
        }
    }

    public void Dispose()
    {
        stopping.Cancel();
        stopping.Dispose();
    }
}
