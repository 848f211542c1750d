using Microsoft.Extensions.Options;

namespace ImpactGrains.Grains;

/// <summary>The process-wide limits on entity grains' storage traffic; see <see cref="SnapshotOptions"/>.</summary>
public sealed class StorageGates(IOptions<SnapshotOptions> options) : IDisposable
{
    /// <summary>Snapshot writes (<see cref="SnapshotOptions.MaxConcurrentWrites"/>).</summary>
    public SemaphoreSlim Writes { get; } = new(Math.Max(1, options.Value.MaxConcurrentWrites));

    /// <summary>Activation reads: snapshot, log, catalog (<see cref="SnapshotOptions.MaxConcurrentLoads"/>).</summary>
    public SemaphoreSlim Loads { get; } = new(Math.Max(1, options.Value.MaxConcurrentLoads));

    public void Dispose()
    {
        Writes.Dispose();
        Loads.Dispose();
    }
}
