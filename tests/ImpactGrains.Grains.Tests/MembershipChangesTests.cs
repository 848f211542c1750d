using System.Threading.Channels;
using ImpactGrains.Grains.Ownership;
using Xunit;

namespace ImpactGrains.Grains.Tests;

/// <summary>
/// <see cref="MembershipChanges"/> is what wakes a delivery backing off from a dead silo's grain: it must complete at
/// the change that follows the read, and only then.
/// </summary>
public sealed class MembershipChangesTests
{
    private sealed class FakeMembership : IClusterMembershipService
    {
        public Channel<ClusterMembershipSnapshot> Updates { get; } = Channel.CreateUnbounded<ClusterMembershipSnapshot>();

        public ClusterMembershipSnapshot CurrentSnapshot => throw new NotSupportedException();

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => Updates.Reader.ReadAllAsync();

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => Task.FromResult(false);

        // The snapshot's content does not matter to the watcher, only that one arrived.
        public void Change() => Updates.Writer.TryWrite(null!);
    }

    [Fact]
    public async Task Next_completes_at_the_change_after_it_was_read_and_not_before()
    {
        var membership = new FakeMembership();
        using var changes = new MembershipChanges(membership);

        var first = changes.Next;
        await Task.Delay(50);
        Assert.False(first.IsCompleted);

        membership.Change();
        await first.WaitAsync(TimeSpan.FromSeconds(10));

        var second = changes.Next;
        Assert.NotSame(first, second);
        await Task.Delay(50);
        Assert.False(second.IsCompleted);

        membership.Change();
        await second.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
