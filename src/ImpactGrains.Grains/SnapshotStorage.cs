using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Serialization;
using Orleans.Storage;

namespace ImpactGrains.Grains;

/// <summary>Where grains keep their snapshots: Orleans' ADO.NET grain storage, its reads bounded per process.</summary>
public static class SnapshotStorage
{
    // The ADO.NET provider's own name; grains name GrainStorageNames.Snapshots, the gate in front of it. Rows are keyed
    // by grain id and state name, not by provider name, so the name of this inner provider is not stored anywhere.
    private const string StoreName = GrainStorageNames.Snapshots + "-adonet";

    public static ISiloBuilder AddSnapshotStorage(this ISiloBuilder silo, string invariant, string connectionString)
    {
        silo.AddAdoNetGrainStorage(StoreName, options => options.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = invariant;
            o.ConnectionString = connectionString;
            // Orleans' binary serializer: snapshots are lists of events, and JSON would triple their size.
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        silo.Services.TryAddSingleton<StorageGates>();
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Snapshots, (services, _) =>
            new LoadGatedGrainStorage(services.GetRequiredKeyedService<IGrainStorage>(StoreName), services.GetRequiredService<StorageGates>().Loads));
        return silo;
    }
}
