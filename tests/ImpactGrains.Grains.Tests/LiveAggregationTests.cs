using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage;

namespace ImpactGrains.Grains.Tests;

/// <summary>Leaderboards, groups and spike detection on a two-silo cluster.</summary>
public sealed class LiveAggregationTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly DateTimeOffset Recent = DateTimeOffset.UtcNow.AddHours(-1);

    private static ImpactEvent Outage(string id, string entity, DateTimeOffset at, long reports, string region = "US") =>
        new(id, entity, EventType.Outage, at, region, 1, null, new OutageData(reports, 500, null));

    private async Task<IReadOnlyList<RankedEntry>> EventuallyTopAsync(EntityKindCode? kind, int limit, Func<IReadOnlyList<RankedEntry>, bool> done)
    {
        IReadOnlyList<RankedEntry> top = [];
        for (var i = 0; i < 300; i++)
        {
            top = await fixture.Client.GetGrain<ILeaderboardGrain>(0).TopAsync(kind, null, null, limit, DateTimeOffset.UtcNow);
            if (done(top))
            {
                break;
            }

            await Task.Delay(100);
        }

        return top;
    }

    [Fact]
    public async Task The_global_leaderboard_ranks_entities_from_every_partition_on_both_silos()
    {
        var ids = Enumerable.Range(0, 20).Select(i => $"rank-{i:00}").ToArray();
        foreach (var id in ids)
        {
            await fixture.Catalog.UpsertEntityAsync(id, id.ToUpperInvariant(), EntityKind.Organization, []);
        }

        await fixture.SpreadAsync(ids);
        await fixture.IngestAsync(ids.Select((id, i) => Outage($"{id}-1", id, Recent, 1000 * (i + 1))).ToList());
        // Partitions publish on their own timers: wait until every one has (the bound is generous for a busy machine).
        string[] expected = ["rank-19", "rank-18", "rank-17", "rank-16", "rank-15"];
        var top = await EventuallyTopAsync(EntityKindCode.Organization, 5, t => t.Select(x => x.Entity).SequenceEqual(expected));

        Assert.Equal(expected, top.Select(t => t.Entity));
        Assert.Equal("RANK-19", top[0].Name);
        // At one instant for both: the score decays by about 0.0005 a second here, more than the comparison allows.
        var at = DateTimeOffset.UtcNow;
        var ranked = await fixture.Client.GetGrain<ILeaderboardGrain>(0).TopAsync(EntityKindCode.Organization, null, null, 5, at);
        var exact = await fixture.Client.GetGrain<IEntityGrain>("rank-19").GetImpactAsync(at);
        Assert.Equal(exact.Score, ranked[0].Score, 6);

        // The entities reported from both silos.
        Assert.Equal(2, (await fixture.PlacementAsync()).Where(p => ids.Contains(p.Key)).Select(p => p.Value).Distinct().Count());
    }

    [Fact]
    public async Task Partitions_send_score_changes_to_the_live_feed_only_while_something_wants_them()
    {
        string[] ids = ["audience-before", "audience-after"];
        foreach (var id in ids)
        {
            await fixture.Catalog.UpsertEntityAsync(id, id, EntityKind.Product, []);
        }

        // No observer, and the silos' listener wants no scores: the partition publishes its standings and no score change.
        var feed = fixture.Client.GetGrain<ILiveFeedGrain>(0);
        Assert.False(await feed.HasScoreAudienceAsync());
        await fixture.IngestAsync([Outage("audience-before-1", "audience-before", Recent, 5_000)]);
        var top = await EventuallyTopAsync(EntityKindCode.Product, 50, t => t.Any(x => x.Entity == "audience-before"));
        Assert.Contains(top, x => x.Entity == "audience-before");
        await Task.Delay(500); // the feed is called after the leaderboard in the same publication, had it been called

        // A listener that wants them (alert rules): the next change is published.
        fixture.Feed.WantsScores = true;
        try
        {
            Assert.True(await feed.HasScoreAudienceAsync());
            await fixture.IngestAsync([Outage("audience-after-1", "audience-after", Recent, 5_000)]);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!fixture.Feed.Scored.Contains("audience-after") && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.Contains("audience-after", fixture.Feed.Scored);
            Assert.DoesNotContain("audience-before", fixture.Feed.Scored);
        }
        finally
        {
            fixture.Feed.WantsScores = false;
        }

        // An observer (a silo with stream clients) is an audience too.
        var reference = fixture.Client.CreateObjectReference<ILiveFeedObserver>(new NoObserver());
        await feed.SubscribeAsync(reference, fixture.Cluster.Silos[0].SiloAddress);
        Assert.True(await feed.HasScoreAudienceAsync());
        await feed.UnsubscribeAsync(reference);
        Assert.False(await feed.HasScoreAudienceAsync());
    }

    private sealed class NoObserver : ILiveFeedObserver
    {
        public void OnMessages(IReadOnlyList<LiveMessage> messages)
        {
        }
    }

    [Fact]
    public async Task Version_stamps_answer_with_the_stamp_alone_while_nothing_changed()
    {
        await fixture.Catalog.UpsertEntityAsync("stamped", "Stamped", EntityKind.Company, []);
        await fixture.IngestAsync([Outage("stamped-1", "stamped", Recent, 2000)]);
        var grain = fixture.Client.GetGrain<IEntityGrain>("stamped");
        var at = DateTimeOffset.UtcNow;
        var first = await grain.GetImpactIfChangedAsync(at, null);
        Assert.NotNull(first.Report);
        Assert.Equal((await grain.GetImpactAsync(at)).Score, first.Report.Score);

        // The stamp the caller holds is current: no report, the same stamp.
        var again = await grain.GetImpactIfChangedAsync(at, first.Version);
        Assert.Null(again.Report);
        Assert.Equal(first.Version, again.Version);
        var explained = await grain.ExplainIfChangedAsync(at, 5, null);
        Assert.Equal("stamped-1", explained.Report!.Contributions[0].EventId);
        Assert.Null((await grain.ExplainIfChangedAsync(at, 5, explained.Version)).Report);

        // A late event (before the instant) changes the stamp, and the answer comes again.
        await fixture.IngestAsync([Outage("stamped-2", "stamped", Recent.AddMinutes(-5), 500)]);
        var changed = await grain.GetImpactIfChangedAsync(at, first.Version);
        Assert.NotEqual(first.Version, changed.Version);
        Assert.Equal(2, changed.Report!.EventCount);

        // The leaderboard grain's candidates: a version, and nothing but the version while it stands.
        var board = fixture.Client.GetGrain<ILeaderboardGrain>(0);
        var snapshot = await board.CandidatesAsync(0);
        Assert.NotNull(snapshot.Candidates);
        var unchanged = await board.CandidatesAsync(snapshot.Version);
        Assert.True(unchanged.Candidates is null || unchanged.Version != snapshot.Version);
    }

    [Fact]
    public async Task A_batch_costs_one_report_per_entity_not_one_call_per_event()
    {
        var ids = Enumerable.Range(0, 5).Select(i => $"hot-{i}").ToArray();
        foreach (var id in ids)
        {
            await fixture.Catalog.UpsertEntityAsync(id, id, EntityKind.Company, []);
        }

        static bool Hot(string entity) => entity.StartsWith("hot-", StringComparison.Ordinal);
        var events = Enumerable.Range(0, 1000).Select(i => Outage($"hot-e-{i}", ids[i % 5], Recent.AddSeconds(i), 100 + i)).ToList();
        await fixture.IngestAsync(events);
        await Task.Delay(1000);

        // 1,000 events for 5 entities: 5 grain deliveries, and each entity's standing reaches its partition a bounded
        // number of times (once per delivery, once more when it activates, each in its silo's batch), never per event.
        Assert.Equal(5, ClusterFixture.CallCounter.Count("IEntityGrain.ApplyAsync", Hot));
        Assert.InRange(ClusterFixture.CallCounter.Count("ILeaderboardPartitionGrain.ReportManyAsync", Hot), 5, 10);
    }

    [Fact]
    public async Task A_group_combines_members_that_live_on_different_silos()
    {
        var members = Enumerable.Range(0, 16).Select(i => $"grp-m{i:00}").ToArray();
        foreach (var id in members)
        {
            await fixture.Catalog.UpsertEntityAsync(id, id, EntityKind.Company, []);
        }

        await fixture.SpreadAsync(members);
        await fixture.IngestAsync(members.Select((id, i) => Outage($"{id}-1", id, Recent, 2000 * (i + 1))).ToList());
        await fixture.Catalog.UpsertGroupAsync("grp-all", "All", Scoring.Groups.GroupMethod.Max, members.Select(m => new GroupMember(m, 1)).ToList());

        var at = DateTimeOffset.UtcNow;
        var report = await fixture.Client.GetGrain<IGroupGrain>("grp-all").GetImpactAsync(at);
        var scores = new List<double>();
        foreach (var id in members)
        {
            scores.Add((await fixture.Client.GetGrain<IEntityGrain>(id).GetImpactAsync(at)).Score);
        }

        Assert.Equal(scores.Max(), report.Score, 9);
        Assert.Equal(1.0, report.Members.Single(m => m.Entity == "grp-m15").Share);
        Assert.Equal(2, (await fixture.PlacementAsync()).Where(p => members.Contains(p.Key)).Select(p => p.Value).Distinct().Count());
    }

    [Fact]
    public async Task A_spike_becomes_an_incident_event_in_the_log_and_in_the_score()
    {
        await fixture.Catalog.UpsertEntityAsync("spiky", "Spiky", EntityKind.Company, []);
        var start = DateTimeOffset.UtcNow.AddHours(-4);
        var random = new Random(5);
        var quiet = Enumerable.Range(0, 24).Select(i => Outage($"spiky-{i}", "spiky", start.AddMinutes(5 * i), 100 + random.Next(-10, 11))).ToList();
        await fixture.IngestAsync(quiet);
        var before = await fixture.Client.GetGrain<IEntityGrain>("spiky").GetImpactAsync(DateTimeOffset.UtcNow);

        await fixture.IngestAsync([Outage("spiky-w1", "spiky", start.AddMinutes(125), 8000), Outage("spiky-w2", "spiky", start.AddMinutes(130), 9000)]);

        var logged = await fixture.Log.ReadEntityAsync("spiky", 0);
        var incident = Assert.Single(logged, e => e.Event.Type == EventType.Incident);
        var data = Assert.IsType<IncidentData>(incident.Event.Data);
        Assert.Equal(IncidentStatus.Detected, data.Status);
        Assert.Equal(9000, data.Reports);
        Assert.InRange(data.BaselineMean, 90, 110);

        var after = await fixture.Client.GetGrain<IEntityGrain>("spiky").GetImpactAsync(DateTimeOffset.UtcNow);
        Assert.Equal(before.EventCount + 3, after.EventCount);
        var explained = await fixture.Client.GetGrain<IEntityGrain>("spiky").ExplainAsync(DateTimeOffset.UtcNow, 50);
        Assert.Contains(explained.Contributions, c => c.Type == "incident");

        // After deactivation the detector resumes from its snapshot and the log: the same outages add no incident.
        await fixture.Cluster.DeactivateAsync(fixture.Client.GetGrain<IEntityGrain>("spiky"));
        await fixture.IngestAsync([Outage("spiky-w3", "spiky", start.AddMinutes(135), 9500)]);
        Assert.Single(await fixture.Log.ReadEntityAsync("spiky", 0), e => e.Event.Type == EventType.Incident);
    }
}
