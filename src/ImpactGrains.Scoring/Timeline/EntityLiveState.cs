using ImpactGrains.Scoring.Ledger;

namespace ImpactGrains.Scoring.Timeline;

/// <summary>
/// What answers one entity's queries: its timeline, how far its own events were applied (in sequence order, no gaps),
/// its most recent own events (what the entities linked from it pull), and the version stamp of the answers, one more
/// for every change. Applying an event allocates nothing beyond what the timeline does: this is ingestion's hot path.
/// </summary>
/// <param name="answerVersion">
/// The first stamp; from the activation's clock, so that a later activation never repeats an earlier one's stamps.
/// </param>
public sealed class EntityLiveState(string entity, long answerVersion)
{
    private readonly RecentEvents recent = new(4096);

    public string Entity { get; } = entity;

    /// <summary>The timeline answering now; set by <see cref="Start"/> before anything is applied.</summary>
    public EntityTimeline Timeline { get; private set; } = null!;

    /// <summary>Every own event up to this sequence is in the timeline.</summary>
    public long AppliedSequence { get; private set; }

    /// <summary>The version stamp of what answers depend on.</summary>
    public long AnswerVersion { get; private set; } = answerVersion;

    /// <summary>Starts from a timeline restored, or new, holding the own events up to <paramref name="appliedSequence"/>.</summary>
    public void Start(EntityTimeline timeline, long appliedSequence) => (Timeline, AppliedSequence) = (timeline, appliedSequence);

    /// <summary>Applies the next own event (sequence <see cref="AppliedSequence"/> + 1).</summary>
    public void ApplyOwn(in ScoredEvent e)
    {
        Timeline.Add(Contribution.OwnEvent(e, Entity));
        AnswerVersion++;
        recent.Add(e);
        AppliedSequence = e.Sequence;
    }

    /// <summary>Applies an event of a linked entity at its link's weight, unless it was taken already; true when applied.</summary>
    public bool Inherit(in ScoredEvent e, InboundLink source)
    {
        if (e.Sequence <= source.AppliedSequence)
        {
            return false;
        }

        Timeline.Add(Contribution.InheritedEvent(e, source.From, source.Weight));
        AnswerVersion++;
        source.AppliedSequence = e.Sequence;
        return true;
    }

    /// <summary>
    /// Answers from a timeline built again from the log, holding the own events up to <paramref name="ownThrough"/>. The
    /// recent events go with the old one: a linked entity behind them reads the rest from the log.
    /// </summary>
    public void TakeOver(EntityTimeline rebuilt, long ownThrough)
    {
        (Timeline, AppliedSequence) = (rebuilt, ownThrough);
        AnswerVersion++;
        recent.Clear();
    }

    /// <summary>The own events after <paramref name="afterSequence"/> when every one of them is still held; otherwise false.</summary>
    public bool TryGetOwnAfter(long afterSequence, out List<ScoredEvent> events) => recent.TryGetAfter(afterSequence, AppliedSequence, out events);
}
