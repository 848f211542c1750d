using Orleans.Storage;

namespace ImpactGrains.Grains;

/// <summary>Reads wait for the process's load gate; writes and clears pass straight through (the grain gates its writes).</summary>
public sealed class LoadGatedGrainStorage(IGrainStorage store, SemaphoreSlim loads) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await loads.WaitAsync();
        try
        {
            await store.ReadStateAsync(stateName, grainId, grainState);
        }
        finally
        {
            loads.Release();
        }
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        store.WriteStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        store.ClearStateAsync(stateName, grainId, grainState);
}
