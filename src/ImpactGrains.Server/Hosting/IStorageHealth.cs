namespace ImpactGrains.Server.Hosting;

/// <summary>Whether the profile's store answers; readiness depends on it.</summary>
public interface IStorageHealth
{
    Task<bool> IsReachableAsync(CancellationToken cancellationToken);
}
