using System.Threading.Channels;
using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Storage;

/// <summary>An event as one commit of the log accepted it.</summary>
public readonly record struct CommittedEvent(ImpactEvent Event, long EntitySequence);

/// <summary>
/// One commit of the log's writer: the events it accepted, from every append it carried, in commit order (so each
/// entity's sequences ascend), and the outbox row that stands for their delivery. Delivering per commit rather than
/// per request gives an entity that several concurrent requests touched one call for all of them.
/// </summary>
public sealed class CommittedGroup(IReadOnlyList<CommittedEvent> events, long deliveryId, long committedAt)
{
    private readonly TaskCompletionSource delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<CommittedEvent> Events { get; } = events;

    public long DeliveryId { get; } = deliveryId;

    /// <summary>When the commit finished, as a <see cref="System.Diagnostics.Stopwatch"/> timestamp.</summary>
    public long CommittedAt { get; } = committedAt;

    /// <summary>Completes once every event of the commit is with its entity grain (or delivery has gone to the background).</summary>
    public Task Delivered => delivered.Task;

    public void MarkDelivered() => delivered.TrySetResult();
}

/// <summary>
/// The log's commits, in commit order, for whoever delivers them to the entity grains. A log without a reader (an
/// operator command, a storage test) publishes nothing: nothing waits on delivery there.
/// </summary>
public sealed class CommitFeed
{
    private readonly Channel<CommittedGroup> channel = Channel.CreateUnbounded<CommittedGroup>(new UnboundedChannelOptions { SingleReader = true });

    private volatile bool reading;

    /// <summary>Claims the feed for its one reader.</summary>
    public ChannelReader<CommittedGroup> Subscribe()
    {
        reading = true;
        return channel.Reader;
    }

    /// <summary>Called by the log's writer after each commit; never blocks it.</summary>
    public void Publish(CommittedGroup group)
    {
        if (reading)
        {
            channel.Writer.TryWrite(group);
        }
        else
        {
            group.MarkDelivered();
        }
    }
}
