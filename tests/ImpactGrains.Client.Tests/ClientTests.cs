using System.Net;
using System.Text.Json;
using ImpactGrains.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImpactGrains.Client.Tests;

/// <summary>The client against the real server with the demo: every group of operations, errors and the stream.</summary>
[Collection(DemoServerCollection.Name)]
public sealed class ClientTests(DemoServerFixture fixture)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task Entities_and_links_register_in_bulk_and_list_page_by_page()
    {
        using var client = fixture.Client();
        var entities = Enumerable.Range(0, 25).Select(i => new BulkEntityRequest($"ct-bulk-{i:00}", $"Bulk {i}", EntityKinds.Organization, ["bulk"]))
            .Append(new BulkEntityRequest("CT BAD", "Bad", EntityKinds.Company))
            .ToList();
        var stored = await client.PutEntitiesAsync(entities);
        Assert.Equal(25, stored.Upserted);
        var refused = Assert.Single(stored.Rejected);
        Assert.Equal((25, "CT BAD"), (refused.Index, refused.Id));

        var links = await client.PutLinksAsync([new LinkRequest("ct-bulk-00", "ct-bulk-01", 0.5, "owner"), new LinkRequest("ct-bulk-02", "ct-bulk-02", 0.5, "self")]);
        Assert.Equal(1, links.Upserted);
        Assert.Equal(1, Assert.Single(links.Rejected).Index);
        Assert.Contains((await client.GetEntityAsync("ct-bulk-01")).Links, l => l is { From: "ct-bulk-00", Relation: "owner" });

        // Pages of 10 over the 25 that match, in id order, each naming the next page's cursor until the last.
        var first = await client.ListEntitiesPageAsync(new EntityListQuery(Search: "ct-bulk", Limit: 10));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"ct-bulk-{i:00}"), first.Entities.Select(e => e.Id));
        Assert.Equal("ct-bulk-09", first.NextAfter);
        var second = await client.ListEntitiesPageAsync(new EntityListQuery(Search: "ct-bulk", After: first.NextAfter, Limit: 10));
        Assert.Equal("ct-bulk-10", second.Entities[0].Id);

        var all = new List<EntitySummary>();
        await foreach (var entity in client.EnumerateEntitiesAsync(search: "ct-bulk", kind: EntityKinds.Organization, pageSize: 7))
        {
            all.Add(entity);
        }

        Assert.Equal(entities.Take(25).Select(e => e.Id), all.Select(e => e.Id));
        Assert.Empty(await client.ListEntitiesAsync(search: "ct-bulk", kind: EntityKinds.Person));
    }

    [Fact]
    public async Task Entities_links_and_events_round_trip_with_their_totals()
    {
        using var client = fixture.Client();
        var created = await client.PutEntityAsync("ct-acme", new EntityRequest("Acme", EntityKinds.Company, ["retail", "retail"]));
        Assert.True(created.Created);
        Assert.Equal(["retail"], created.Value.Tags);
        var updated = await client.PutEntityAsync("ct-acme", new EntityRequest("Acme Corp", EntityKinds.Company));
        Assert.False(updated.Created);
        Assert.Equal("Acme Corp", updated.Value.Name);

        var link = await client.PutLinkAsync(new LinkRequest("elon-musk", "ct-acme", 0.25, "investor"));
        Assert.True(link.Created);
        Assert.Contains((await client.GetEntityAsync("ct-acme")).Links, l => l is { From: "elon-musk", Weight: 0.25, Relation: "investor" });
        Assert.Contains(await client.ListEntitiesAsync(), e => e.Id == "ct-acme");

        // A list in one request: one accepted, one duplicate, one rejected with its reason.
        var one = await client.PostEventsAsync(
        [
            EventRequest.Outage("ct-1", "ct-acme", Now.AddHours(-2), reports: 5000, baselineReports: 500, region: "US"),
            EventRequest.Outage("ct-1", "ct-acme", Now.AddHours(-2), reports: 5000),
            new EventRequest("ct-bad", "ct-acme", EventTypes.Statement, Now.AddHours(-1)),
        ]);
        Assert.Equal(1, one.Accepted);
        Assert.Equal(1, one.Duplicates);
        var rejected = Assert.Single(one.Rejected);
        Assert.Equal((2, "ct-bad"), (rejected.Index, rejected.Id));
        Assert.StartsWith("data.severity:", rejected.Error);

        // A sequence the client batches itself: positions of rejected events count across batches.
        using var batching = fixture.Client(o => o.EventBatchSize = 7);
        var totals = await batching.PostEventsAsync(Sequence(25));
        Assert.Equal(4, totals.Requests);
        Assert.Equal(24, totals.Accepted);
        Assert.Equal(0, totals.Duplicates);
        Assert.Equal(20, Assert.Single(totals.Rejected).Index);
        Assert.Equal(25, totals.Total);
        var again = await batching.PostEventsAsync(Sequence(25));
        Assert.Equal((0L, 24L), (again.Accepted, again.Duplicates));

        var page = await client.GetEventsAsync("ct-acme", limit: 3);
        Assert.Equal(3, page.Events.Count);
        Assert.True(page.Events[0].OccurredAt >= page.Events[1].OccurredAt);
        var older = await client.GetEventsAsync("ct-acme", limit: 50, before: page.Events[^1].OccurredAt);
        Assert.All(older.Events, e => Assert.True(e.OccurredAt < page.Events[^1].OccurredAt));
        var outage = (await client.GetEventsAsync("ct-acme", limit: 100)).Events.Single(e => e.Id == "ct-1");
        Assert.Equal(("US", 5000L), (outage.Region, outage.Data!["reports"]!.GetValue<long>()));

        await client.DeleteLinkAsync("elon-musk", "ct-acme");
        var gone = await Assert.ThrowsAsync<ImpactApiException>(() => client.DeleteLinkAsync("elon-musk", "ct-acme"));
        Assert.Equal((404, "Not found"), (gone.Status, gone.Title));
    }

    private static async IAsyncEnumerable<EventRequest> Sequence(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return i == 20
                ? new EventRequest("ct-seq-bad", "ct-acme", "recall", Now.AddMinutes(-i))
                : EventRequest.Statement($"ct-seq-{i}", "ct-acme", Now.AddMinutes(-i - 1), Severities.Minor);
            await Task.Yield();
        }
    }

    [Fact]
    public async Task Scores_explanations_history_and_the_leaderboard_read_as_records()
    {
        using var client = fixture.Client();
        var impact = await client.GetImpactAsync("tesla");
        Assert.Equal("tesla", impact.Entity);
        Assert.InRange(impact.Score, 0.01, 100);
        Assert.Equal(["financial", "market", "operational", "reputational"], impact.Categories.Keys.Order());
        Assert.NotNull(impact.Peak.At);

        var before = await client.GetImpactAsync("tesla", at: new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(0, before.Score);
        Assert.Null(before.Peak.At);

        var explain = await client.ExplainAsync("tesla", limit: 2);
        Assert.Equal(2, explain.Contributions.Count);
        Assert.True(explain.Contributions[0].Contribution >= explain.Contributions[1].Contribution);

        var history = await client.GetHistoryAsync("tesla", from: Now.AddHours(-3), to: Now, step: TimeSpan.FromHours(1));
        Assert.Equal(4, history.Points.Count);

        var board = await client.GetLeaderboardAsync(kind: EntityKinds.Company, limit: 2);
        Assert.Equal(EntityKinds.Company, board.Kind);
        Assert.Equal(2, board.Entries.Count);
        Assert.All(board.Entries, e => Assert.Equal(EntityKinds.Company, e.Kind));
        var byCategory = await client.GetLeaderboardAsync(category: Categories.Operational, at: Now);
        Assert.Equal(Categories.Operational, byCategory.Category);
    }

    [Fact]
    public async Task Groups_alert_rules_and_model_versions()
    {
        using var client = fixture.Client();
        var group = await client.PutGroupAsync("ct-portfolio", new GroupRequest("Portfolio", GroupMethods.NoisyOr, [new GroupMember("x"), new GroupMember("tesla", 0.5)]));
        Assert.True(group.Created);
        Assert.Equal([("x", 1.0), ("tesla", 0.5)], group.Value.Members.Select(m => (m.Entity, m.Weight)));
        Assert.Contains(await client.ListGroupsAsync(), g => g.Id == "ct-portfolio");
        Assert.Equal("Portfolio", (await client.GetGroupAsync("ct-portfolio")).Name);
        var groupImpact = await client.GetGroupImpactAsync("ct-portfolio");
        Assert.Equal(2, groupImpact.Members.Count);
        Assert.InRange(groupImpact.Members.Sum(m => m.Share), 0.999, 1.001);
        Assert.NotEmpty((await client.ExplainGroupAsync("ct-portfolio", limit: 3)).Contributions);
        Assert.Equal(3, (await client.GetGroupHistoryAsync("ct-portfolio", from: Now.AddDays(-2), to: Now, step: TimeSpan.FromDays(1))).Points.Count);

        var rule = await client.CreateAlertRuleAsync(new AlertRuleRequest("tesla", AlertMetrics.Score, 99.9, TimeSpan.FromMinutes(30), new Uri("http://127.0.0.1:9/hook"), "a-long-shared-secret"));
        Assert.StartsWith("rule-", rule.Id);
        Assert.Equal(TimeSpan.FromMinutes(30), rule.CoolDown);
        Assert.Equal(rule, await client.GetAlertRuleAsync(rule.Id));
        Assert.Contains(await client.ListAlertRulesAsync(), r => r.Id == rule.Id);
        await client.DeleteAlertRuleAsync(rule.Id);
        Assert.Equal(404, (await Assert.ThrowsAsync<ImpactApiException>(() => client.GetAlertRuleAsync(rule.Id))).Status);
        Assert.NotNull((await client.ListAlertsAsync(limit: 5)).Alerts);
        Assert.Equal(404, (await Assert.ThrowsAsync<ImpactApiException>(() => client.GetDeliveriesAsync("alert-none"))).Status);

        var models = await client.ListModelsAsync();
        Assert.Contains(models, m => m.Current);
        using var parameters = JsonDocument.Parse("""{"version":"ct-v2","types":{"outage":{"severity":2}}}""");
        var registered = await client.RegisterModelAsync(parameters.RootElement);
        Assert.True(registered.Created);
        Assert.False((await client.RegisterModelAsync(parameters.RootElement)).Created);
        Assert.Equal(2, (await client.GetModelAsync("ct-v2")).Parameters.GetProperty("types").GetProperty("outage").GetProperty("severity").GetDouble());
        var rescore = await client.RescoreAsync(new RescoreRequest("ct-v2", Limit: 3));
        Assert.Equal("ct-v2", rescore.To);
        Assert.True(rescore.Entities >= 4);
    }

    [Fact]
    public async Task Problem_answers_become_exceptions_with_the_rejected_fields()
    {
        using var client = fixture.Client();
        var unknown = await Assert.ThrowsAsync<ImpactApiException>(() => client.GetImpactAsync("nobody"));
        Assert.Equal((404, "Unknown entity", "there is no entity 'nobody'"), (unknown.Status, unknown.Title, unknown.Detail));
        Assert.Equal("Unknown entity (HTTP 404): there is no entity 'nobody'", unknown.Message);
        Assert.True(unknown.IsProblem);
        Assert.False(string.IsNullOrEmpty(unknown.TraceId));

        var invalid = await Assert.ThrowsAsync<ImpactApiException>(() => client.PutEntityAsync("ct-invalid", new EntityRequest("Invalid", "robot")));
        Assert.Equal((400, "Invalid request"), (invalid.Status, invalid.Title));
        Assert.Equal(["kind"], invalid.Errors.Keys);
        Assert.StartsWith("required, one of company", invalid.Errors["kind"].Single());

        using var model = JsonDocument.Parse("""{"version":"ct-v3","kappa":-1,"kapa":3}""");
        var many = await Assert.ThrowsAsync<ImpactApiException>(() => client.RegisterModelAsync(model.RootElement));
        Assert.Equal(["kapa", "kappa"], many.Errors.Keys.Order());

        var history = await Assert.ThrowsAsync<ImpactApiException>(() => client.GetHistoryAsync("tesla", from: Now, to: Now.AddDays(-1)));
        Assert.Equal("must not be after to", history.Errors["from"].Single());
    }

    [Fact]
    public async Task The_stream_delivers_score_changes_as_records()
    {
        using var client = fixture.Client();
        await client.PutEntityAsync("ct-streamed", new EntityRequest("Streamed", EntityKinds.Person));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var connected = new TaskCompletionSource();
        var options = new StreamOptions { OnConnectionEvent = e => connected.TrySetResult() };
        var first = Task.Run(async () =>
        {
            await foreach (var e in client.StreamAsync(new StreamFilter(Entity: "ct-streamed", Types: ["score"]), options, stop.Token))
            {
                if (e is ScoreEvent score)
                {
                    return (e.Id, score.Score);
                }
            }

            throw new InvalidOperationException("the stream ended");
        });
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await client.PostEventAsync(EventRequest.Statement("ct-streamed-1", "ct-streamed", Now.AddMinutes(-1), Severities.Critical));

        var (id, update) = await first.WaitAsync(TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal(("ct-streamed", "Streamed", EntityKinds.Person), (update.Entity, update.Name, update.Kind));
        Assert.True(update.Score > 0);

        var unknown = await Assert.ThrowsAsync<ImpactApiException>(async () =>
        {
            await foreach (var _ in client.StreamAsync(new StreamFilter(Group: "no-such-group")))
            {
            }
        });
        Assert.Equal(404, unknown.Status);
    }

    [Fact]
    public async Task AddImpactClient_registers_a_typed_client_with_the_key_and_the_pipeline()
    {
        var services = new ServiceCollection();
        services.AddImpactClient(o =>
        {
            o.BaseAddress = fixture.Url;
            o.ApiKey = "ignored-by-an-open-server";
        });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<ImpactClient>();

        Assert.Equal(fixture.Url, client.BaseAddress);
        Assert.Equal("tesla", (await client.GetEntityAsync("tesla")).Id);
        Assert.Equal(HttpStatusCode.NotFound, (HttpStatusCode)(await Assert.ThrowsAsync<ImpactApiException>(() => client.GetEntityAsync("nobody"))).Status);
    }
}
