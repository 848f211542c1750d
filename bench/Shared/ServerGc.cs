using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace ImpactGrains.Bench;

/// <summary>Full collections in another .NET process, so that its heap figures count only what is alive.</summary>
public static class ServerGc
{
    /// <summary>
    /// The runtime collects (gen 2, blocking) when an EventPipe session asks for the GCHeapCollect keyword of its GC
    /// provider, as dotnet-gcdump does.
    /// </summary>
    public static void InduceFullCollection(int processId)
    {
        const long GcKeyword = 0x1, GcHeapCollectKeyword = 0x800000;
        var client = new DiagnosticsClient(processId);
        using var session = client.StartEventPipeSession(
            [new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcKeyword | GcHeapCollectKeyword)], requestRundown: false);
        var drain = Task.Run(() => session.EventStream.CopyTo(Stream.Null));
        Thread.Sleep(TimeSpan.FromMilliseconds(500));
        session.Stop();
        drain.Wait(TimeSpan.FromSeconds(10));
    }
}
