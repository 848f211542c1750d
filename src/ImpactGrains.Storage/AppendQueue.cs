using System.Threading.Channels;
using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Storage;

/// <summary>
/// One request's append, queued for the log's writer: its events, whatever the provider computed for them on the
/// request's thread, and the answer the writer gives once they are committed.
/// </summary>
internal abstract class QueuedAppend(IReadOnlyList<ImpactEvent> events)
{
    public IReadOnlyList<ImpactEvent> Events { get; } = events;

    public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The queue from the appending requests to the log's one writer, which commits whatever has gathered in one
/// transaction (group commit). It is bounded: a writer that falls behind holds the requests back rather than letting
/// the queue take the memory.
/// </summary>
/// <param name="prepare">Makes the provider's queued append; it runs on the appending request, not on the writer.</param>
internal sealed class AppendQueue<TPending>(Func<IReadOnlyList<ImpactEvent>, TPending> prepare)
    where TPending : QueuedAppend
{
    private readonly Channel<TPending> channel = Channel.CreateBounded<TPending>(new BoundedChannelOptions(4096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    public async Task<AppendResult> AppendAsync(IReadOnlyList<ImpactEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return new AppendResult([], 0);
        }

        var pending = prepare(events);
        await channel.Writer.WriteAsync(pending, cancellationToken);

        // Once queued, the append is committed or fails as a whole; cancelling only stops waiting for the answer.
        return await pending.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Wakes an idle writer with an empty append, so that it runs for what else waits (removals, a WAL restart).</summary>
    public void Wake() => channel.Writer.TryWrite(prepare([]));

    /// <summary>False once <see cref="Complete"/> was called and every append was taken.</summary>
    public ValueTask<bool> WaitToReadAsync() => channel.Reader.WaitToReadAsync();

    /// <summary>
    /// Moves whole appends into <paramref name="group"/> (emptied first) until none waits or it holds
    /// <paramref name="maxEvents"/> events or more; returns how many events it holds.
    /// </summary>
    public int TakeGroup(List<TPending> group, int maxEvents)
    {
        group.Clear();
        var count = 0;
        while (count < maxEvents && channel.Reader.TryRead(out var pending))
        {
            group.Add(pending);
            count += pending.Events.Count;
        }

        return count;
    }

    /// <summary>A group this large, from two appends or more, marks the log as busy: the next one may gather.</summary>
    public const int BusyGroupEvents = 1_000;

    /// <summary>How many events a busy log's next group waits for, at most <see cref="GatherWait"/>.</summary>
    public const int GatherEvents = 8_000;

    /// <summary>How long a busy log's next group may wait for more appends.</summary>
    public static readonly TimeSpan GatherWait = TimeSpan.FromMilliseconds(30);

    // The last group taken; only the one reader touches it.
    private (int Appends, int Events) lastGroup;

    /// <summary>
    /// <see cref="TakeGroup"/>, and under load from several clients (the last group held two appends or more and
    /// <see cref="BusyGroupEvents"/> events) waits up to <see cref="GatherWait"/> for more, up to
    /// <see cref="GatherEvents"/> events. Most of a commit's cost is the pages it writes, and events for the same
    /// entities share them: over 2,000 entities, a commit of 2,100 events wrote 2.2 pages per event and one of 8,000
    /// events 1.2 (docs/performance.md). A lone client, whose next append waits for this commit, never waits here.
    /// </summary>
    public async ValueTask<int> TakeGroupAsync(List<TPending> group, int maxEvents)
    {
        var count = TakeGroup(group, maxEvents);
        if (lastGroup.Appends >= 2 && lastGroup.Events >= BusyGroupEvents && count < Math.Min(GatherEvents, maxEvents))
        {
            // A monotonic clock: a wall clock set back would stretch the wait.
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            while (count < Math.Min(GatherEvents, maxEvents) && System.Diagnostics.Stopwatch.GetElapsedTime(started) < GatherWait)
            {
                await Task.Delay(1);
                count = TakeMore(group, count, maxEvents);
            }
        }

        lastGroup = (group.Count, count);
        return count;
    }

    /// <summary>
    /// Moves more whole appends into <paramref name="group"/> (kept) while it holds fewer than
    /// <paramref name="maxEvents"/> events; returns how many events it holds, starting from <paramref name="eventCount"/>.
    /// </summary>
    private int TakeMore(List<TPending> group, int eventCount, int maxEvents)
    {
        while (eventCount < maxEvents && channel.Reader.TryRead(out var pending))
        {
            group.Add(pending);
            eventCount += pending.Events.Count;
        }

        return eventCount;
    }

    /// <summary>No more appends: the writer stops once it has taken the last.</summary>
    public void Complete() => channel.Writer.TryComplete();
}
