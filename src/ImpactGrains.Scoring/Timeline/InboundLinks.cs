namespace ImpactGrains.Scoring.Timeline;

/// <summary>What an entity has taken from one entity linked into it: the link's weight, and how far the source's events were applied.</summary>
public sealed class InboundLink(string from, double weight)
{
    public string From { get; } = from;

    public double Weight { get; internal set; } = weight;

    public long AppliedSequence { get; set; }
}

/// <summary>
/// The entities linked into one entity. A link added, removed or reweighted changes the inherited past too, so the
/// timeline must be built again from the log; the same links only mean pulling what the sources applied since.
/// </summary>
public sealed class InboundLinks
{
    private readonly Dictionary<string, InboundLink> sources = new(StringComparer.Ordinal);

    public int Count => sources.Count;

    /// <summary>Every source; a collection of the dictionary's own, so that walking it allocates nothing.</summary>
    public Dictionary<string, InboundLink>.ValueCollection All => sources.Values;

    /// <summary>
    /// Takes the entity's current inbound links (a source named twice takes the later weight). True when one was added,
    /// removed or reweighted: the timeline must be rebuilt; false when pulling from the sources will do.
    /// </summary>
    public bool Relink(IReadOnlyList<(string From, double Weight)> links)
    {
        var before = sources.Values.ToDictionary(s => s.From, s => s.Weight, StringComparer.Ordinal);
        foreach (var stale in sources.Keys.Except(links.Select(l => l.From)).ToList())
        {
            sources.Remove(stale);
        }

        foreach (var (from, weight) in links)
        {
            if (sources.TryGetValue(from, out var existing))
            {
                existing.Weight = weight;
            }
            else
            {
                sources[from] = new InboundLink(from, weight);
            }
        }

        return before.Count != sources.Count || sources.Values.Any(s => !before.TryGetValue(s.From, out var w) || w != s.Weight);
    }

    /// <summary>
    /// Takes how far a snapshot had applied each source, where the link is still there at the same weight (from the
    /// start otherwise). True when the links differ from the snapshot's: its timeline must be rebuilt.
    /// </summary>
    public bool Restore(IReadOnlyCollection<(string From, double Weight, long AppliedSequence)> saved)
    {
        var byFrom = saved.ToDictionary(s => s.From, StringComparer.Ordinal);
        foreach (var source in sources.Values)
        {
            source.AppliedSequence = byFrom.TryGetValue(source.From, out var s) && s.Weight == source.Weight ? s.AppliedSequence : 0;
        }

        return saved.Count != sources.Count || sources.Values.Any(s => !byFrom.TryGetValue(s.From, out var k) || k.Weight != s.Weight);
    }

    /// <summary>Every source from its first event: a timeline built from nothing.</summary>
    public void ApplyFromStart()
    {
        foreach (var source in sources.Values)
        {
            source.AppliedSequence = 0;
        }
    }

    /// <summary>Takes how far a timeline built from the log read each source (a source it did not read: nothing).</summary>
    public void ApplyThrough(IReadOnlyDictionary<string, long> through)
    {
        foreach (var source in sources.Values)
        {
            source.AppliedSequence = through.GetValueOrDefault(source.From);
        }
    }
}
