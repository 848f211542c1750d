using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Validation;

namespace ImpactGrains.Storage.Tests;

/// <summary>
/// What every event log must do, run against each provider: idempotent appends numbered per entity without gaps, events
/// read back exactly as appended, commits published once and in order for delivery, the outbox, and stores written by
/// earlier versions of the schema.
/// </summary>
public abstract class EventLogContract
{
    protected static readonly DateTimeOffset Start = new(2025, 3, 10, 14, 0, 0, TimeSpan.Zero);

    /// <summary>A fresh, migrated store with the given entities registered, and its log.</summary>
    protected abstract Task<Store> CreateAsync(IReadOnlyList<string> entities, CommitFeed? feed = null);

    /// <summary>
    /// A fresh store migrated only up to the last migration before the event log's version 2, holding
    /// <paramref name="events"/> as that version wrote them (JSON bodies, numbered per entity); then migrated fully.
    /// </summary>
    protected abstract Task<Store> CreateFromVersion1Async(IReadOnlyList<string> entities, IReadOnlyList<ImpactEvent> events);

    protected sealed record Store(IEventLog Log, Func<ValueTask> Dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Dispose();
    }

    protected static ImpactEvent Outage(string id, string entity, int minutes, long reports = 1000) =>
        new(id, entity, EventType.Outage, Start.AddMinutes(minutes), "US", 1, null, new OutageData(reports, 500, null));

    /// <summary>One event of every type, with every optional field given or left out.</summary>
    protected static IReadOnlyList<ImpactEvent> EveryKindOfEvent(string entity) =>
    [
        new("k-outage", entity, EventType.Outage, Start, "US", 0.8, "downdetector", new OutageData(39021, 500, 45.5)),
        new("k-outage-bare", entity, EventType.Outage, Start.AddTicks(1), "GLOBAL", 1, null, new OutageData(0, null, null)),
        new("k-cyber", entity, EventType.Cyberattack, Start.AddMinutes(1), "DE", 0.3, null, new CyberattackData(true, "unknown actor")),
        new("k-cyber-bare", entity, EventType.Cyberattack, Start.AddMinutes(2), "DE", 1, null, new CyberattackData(false, null)),
        new("k-protest", entity, EventType.Protest, Start.AddMinutes(3), "FR", 0.9, null, new ProtestData(1200, 3)),
        new("k-protest-some", entity, EventType.Protest, Start.AddMinutes(4), "FR", 1, null, new ProtestData(null, 50)),
        new("k-sales", entity, EventType.SalesChange, Start.AddMinutes(5), "CN", 1, "CPCA", new SalesChangeData(-49, 1_000_000, "2025-02")),
        new("k-sales-bare", entity, EventType.SalesChange, Start.AddMinutes(6), "CN", 1, null, new SalesChangeData(12.25, null, null)),
        new("k-stock", entity, EventType.StockChange, Start.AddMinutes(7), "US", 1, null, new StockChangeData(-15.4, 222.15)),
        new("k-stock-bare", entity, EventType.StockChange, Start.AddMinutes(8), "US", 1, null, new StockChangeData(3, null)),
        new("k-worth", entity, EventType.NetWorthChange, Start.AddMinutes(9), "GLOBAL", 1, null, new NetWorthChangeData(-132e9, 301e9)),
        new("k-worth-bare", entity, EventType.NetWorthChange, Start.AddMinutes(10), "GLOBAL", 1, null, new NetWorthChangeData(5e9, null)),
        new("k-failure", entity, EventType.ProductFailure, Start.AddMinutes(11), "US", 1, null, new SeverityData(Severity.Critical, "Starship – exploded ✓")),
        new("k-statement", entity, EventType.Statement, Start.AddMinutes(12), "GB", 1, "press", new SeverityData(Severity.Minor, null)),
        new("k-incident", entity, EventType.Incident, Start.AddMinutes(13), "US", 1, "spike-detector",
            new IncidentData(IncidentStatus.Detected, 6000, 99.6, 9.1, 648.4, Start.AddMinutes(12), 6500)),
        new("k-incident-end", entity, EventType.Incident, Start.AddMinutes(14), "US", 1, "spike-detector",
            new IncidentData(IncidentStatus.Resolved, 100, 99.6, 9.1, 0.04, Start.AddMinutes(12), 6500)),
    ];

    [Fact]
    public async Task Appends_are_idempotent_numbered_per_entity_and_read_back()
    {
        await using var store = await CreateAsync(["a", "b"]);
        var log = store.Log;

        var first = await log.AppendAsync([Outage("1", "a", 10), Outage("2", "b", 20), Outage("3", "a", 30), Outage("1", "a", 10)]);
        Assert.Equal([(false, 1L), (false, 1L), (false, 2L), (true, 0L)], first.Outcomes.Select(o => (o.Duplicate, o.EntitySequence)));
        Assert.NotEqual(0, first.DeliveryId);

        var second = await log.AppendAsync([Outage("3", "a", 30), Outage("4", "a", 40)]);
        Assert.Equal([(true, 0L), (false, 3L)], second.Outcomes.Select(o => (o.Duplicate, o.EntitySequence)));
        var again = await log.AppendAsync([Outage("4", "b", 50)]); // the same id for another entity is still a duplicate
        Assert.Equal([(true, 0L)], again.Outcomes.Select(o => (o.Duplicate, o.EntitySequence)));
        Assert.Equal(0, again.DeliveryId);

        var a = await log.ReadEntityAsync("a", 0);
        Assert.Equal(["1", "3", "4"], a.Select(e => e.Event.Id));
        Assert.Equal([1L, 2, 3], a.Select(e => e.EntitySequence));
        Assert.Equal(Outage("4", "a", 40), a[2].Event);
        Assert.Equal(["3"], (await log.ReadEntityAsync("a", 1, 2)).Select(e => e.Event.Id));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 3, ["b"] = 1 }, await log.HeadsAsync());
        Assert.Equal(["4", "3"], (await log.ListEntityEventsAsync("a", null, 2)).Select(e => e.Event.Id));
        Assert.Equal(["3", "1"], (await log.ListEntityEventsAsync("a", Start.AddMinutes(40), 5)).Select(e => e.Event.Id));
    }

    [Fact]
    public async Task Reads_by_time_follow_occurrence_order_through_late_events_and_ties()
    {
        await using var store = await CreateAsync(["late", "other"]);
        var log = store.Log;

        // Events over many commits: mostly in time order, a tenth of them late (up to a day early), some sharing a
        // timestamp; another entity's events in between. The embedded log's time map holds 256 events per zone, so late
        // events widen zones that then overlap; it keeps the maps of long histories in memory, which its writer then
        // widens: checked short (1,100 events), long (5,100) and long again after more commits.
        var random = new Random(7);
        var appended = new List<LoggedEvent>();
        var minute = 0;
        async Task AppendAsync(int commits, int perCommit)
        {
            for (var commit = 0; commit < commits; commit++)
            {
                var batch = new List<ImpactEvent>();
                for (var i = 0; i < perCommit; i++)
                {
                    minute += random.Next(0, 3); // 0: the same minute as the one before
                    var at = random.Next(10) == 0 ? minute - random.Next(1, 1440) : minute;
                    batch.Add(Outage($"late-{appended.Count + i}", "late", at));
                    batch.Add(Outage($"other-{appended.Count + i}", "other", at));
                }

                var result = await log.AppendAsync(batch);
                appended.AddRange(batch.Select((e, i) => new LoggedEvent(result.Outcomes[i].EntitySequence, e)).Where(e => e.Event.Entity == "late"));
            }
        }

        async Task<List<long>> ByTimeAsync(long after, long through, long throughSequence)
        {
            var read = new List<long>();
            await foreach (var e in log.ReadEntityByTimeAsync("late", after, through, throughSequence))
            {
                read.Add(e.EntitySequence);
            }

            return read;
        }

        async Task CheckAsync()
        {
            var inOrder = appended.OrderBy(e => e.Event.OccurredAt.UtcTicks).ThenBy(e => e.EntitySequence).ToList();
            List<long> Expected(long after, long through, long throughSequence) => inOrder
                .Where(e => e.Event.OccurredAt.UtcTicks > after && e.Event.OccurredAt.UtcTicks <= through && e.EntitySequence <= throughSequence)
                .Select(e => e.EntitySequence).ToList();

            Assert.Equal(Expected(long.MinValue, long.MaxValue, long.MaxValue), await ByTimeAsync(long.MinValue, long.MaxValue, long.MaxValue));
            for (var i = 0; i < 12; i++)
            {
                var after = Start.AddMinutes(random.Next(-1500, minute)).UtcTicks;
                var through = after + TimeSpan.FromMinutes(random.Next(0, 900)).Ticks;
                var throughSequence = random.Next(2) == 0 ? long.MaxValue : random.Next(1, appended.Count);
                Assert.Equal(Expected(after, through, throughSequence), await ByTimeAsync(after, through, throughSequence));
            }

            foreach (var (before, limit) in new (DateTimeOffset?, int)[] { (null, 1), (null, 700), (null, 9000), (Start.AddMinutes(minute / 2), 300), (Start.AddMinutes(minute / 3), 1) })
            {
                var expected = inOrder.Where(e => before is null || e.Event.OccurredAt < before)
                    .Reverse().Take(limit).Select(e => e.EntitySequence);
                Assert.Equal(expected, (await log.ListEntityEventsAsync("late", before, limit)).Select(e => e.EntitySequence));
            }
        }

        await AppendAsync(11, 100);
        await CheckAsync();
        await AppendAsync(8, 500);
        await CheckAsync();
        await AppendAsync(3, 300);
        await CheckAsync();
    }

    [Fact]
    public async Task Every_kind_of_event_reads_back_exactly_as_appended()
    {
        await using var store = await CreateAsync(["k"]);
        var events = EveryKindOfEvent("k");
        await store.Log.AppendAsync(events);

        var read = await store.Log.ReadEntityAsync("k", 0);
        Assert.Equal(events, read.Select(e => e.Event));
        Assert.All(read, e => Assert.Equal(TimeSpan.Zero, e.Event.OccurredAt.Offset));
        Assert.All(read, e => Assert.True(Regions.TryNormalize(e.Event.Region, out var code) && ReferenceEquals(code, e.Event.Region)));
    }

    [Fact]
    public async Task Each_commit_is_published_once_in_order_with_every_accepted_event()
    {
        var feed = new CommitFeed();
        var commits = feed.Subscribe();
        var entities = Enumerable.Range(0, 7).Select(i => $"f{i}").ToArray();
        await using var store = await CreateAsync(entities, feed);

        // Concurrent appends, with ids repeated across them: each accepted event is in exactly one published commit.
        var appends = Enumerable.Range(0, 40).Select(batch => store.Log.AppendAsync(
            Enumerable.Range(0, 30).Select(i => Outage($"ev-{(batch * 30 + i) % 900}", entities[(batch + i) % entities.Length], i)).ToList())).ToList();
        var results = await Task.WhenAll(appends);
        Assert.Equal(900, results.Sum(r => r.Outcomes.Count(o => !o.Duplicate)));

        var published = new List<CommittedGroup>();
        while (published.Sum(c => c.Events.Count) < 900)
        {
            published.Add(await commits.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.False(commits.TryRead(out _));
        var all = published.SelectMany(c => c.Events).ToList();
        Assert.Equal(900, all.Select(e => e.Event.Id).Distinct().Count());
        foreach (var entity in entities)
        {
            // In publication order, each entity's sequences run 1, 2, 3, … as the log numbered them.
            var sequences = all.Where(e => e.Event.Entity == entity).Select(e => e.EntitySequence).ToList();
            Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
        }

        // Every append's result points at the commit that carried it.
        Assert.All(results.Where(r => r.Outcomes.Any(o => !o.Duplicate)), r => Assert.Contains(r.Commit, published));
        Assert.All(published, c => Assert.NotEqual(0, c.DeliveryId));
    }

    [Fact]
    public async Task Unconfirmed_deliveries_are_claimed_once_until_their_claim_expires()
    {
        await using var store = await CreateAsync(["a"]);
        var log = store.Log;
        var delivered = await log.AppendAsync([Outage("d1", "a", 1)]);
        var abandoned = await log.AppendAsync([Outage("d2", "a", 2), Outage("d3", "a", 3)]);
        await log.CompleteDeliveryAsync(delivered.DeliveryId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(await log.ClaimStaleDeliveriesAsync(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), 10));
        var claimed = Assert.Single(await log.ClaimStaleDeliveriesAsync(TimeSpan.Zero, TimeSpan.FromSeconds(30), 10));
        Assert.Equal(abandoned.DeliveryId, claimed.Id);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 3 }, claimed.Through);
        Assert.Empty(await log.ClaimStaleDeliveriesAsync(TimeSpan.Zero, TimeSpan.FromSeconds(30), 10)); // claimed by someone else

        await log.CompleteDeliveryAsync(claimed.Id).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(await log.ClaimStaleDeliveriesAsync(TimeSpan.Zero, TimeSpan.Zero, 10));
    }

    [Fact]
    public async Task A_store_written_by_version_1_of_the_log_reads_back_and_keeps_numbering()
    {
        var old = EveryKindOfEvent("old").Concat([Outage("o-1", "other", 1), Outage("o-2", "other", 2)]).ToList();
        await using var store = await CreateFromVersion1Async(["old", "other"], old);
        var log = store.Log;

        Assert.Equal(old.Where(e => e.Entity == "old"), (await log.ReadEntityAsync("old", 0)).Select(e => e.Event));
        Assert.Equal(["o-2", "o-1"], (await log.ListEntityEventsAsync("other", null, 10)).Select(e => e.Event.Id));
        var byTime = new List<string>();
        await foreach (var e in log.ReadEntityByTimeAsync("old", Start.AddMinutes(5).UtcTicks, Start.AddMinutes(9).UtcTicks, long.MaxValue))
        {
            byTime.Add(e.Event.Id);
        }

        Assert.Equal(["k-sales-bare", "k-stock", "k-stock-bare", "k-worth"], byTime);

        // Ids logged by version 1 are duplicates still, and new events continue each entity's numbering.
        var next = await log.AppendAsync([Outage("o-1", "other", 1), Outage("o-3", "other", 3), Outage("k-outage", "old", 99)]);
        Assert.Equal([(true, 0L), (false, 3L), (true, 0L)], next.Outcomes.Select(o => (o.Duplicate, o.EntitySequence)));
        Assert.Equal(new Dictionary<string, long> { ["old"] = 16, ["other"] = 3 }, await log.HeadsAsync());
    }
}
