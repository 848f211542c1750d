using System.Net;
using System.Text.Json;

namespace ImpactGrains.Server.Tests;

/// <summary>
/// Groups and alert rules list a page at a time, like entities: every item once, in order, each full page naming the
/// next in a Link header. Other tests share the server, so these check their own items within the whole walk.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ListPagingTests(ServerFixture fixture)
{
    private HttpClient Api => fixture.Http;

    /// <summary>Follows the Link headers from <paramref name="url"/>; every page's items and how many pages there were.</summary>
    private async Task<(List<JsonElement> Items, List<int> PageSizes)> WalkAsync(string url)
    {
        var items = new List<JsonElement>();
        var sizes = new List<int>();
        for (var next = url; next is not null;)
        {
            var response = await Api.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.JsonAsync();
            sizes.Add(page.GetArrayLength());
            items.AddRange(page.EnumerateArray());
            next = response.Headers.TryGetValues("Link", out var link) ? link.Single().Split('<', '>')[1] : null;
        }

        return (items, sizes);
    }

    [Fact]
    public async Task Groups_list_in_id_order_a_page_at_a_time()
    {
        await Api.RegisterAsync("paging-member");
        var ours = Enumerable.Range(0, 5).Select(i => $"paging-group-{i}").ToList();
        foreach (var id in ours.AsEnumerable().Reverse())
        {
            await (await Api.PutJsonAsync($"/api/groups/{id}", """{"name":"Paged","method":"max","members":["paging-member"]}""")).JsonAsync(HttpStatusCode.Created);
        }

        var (items, sizes) = await WalkAsync("/api/groups?limit=2");
        var ids = items.Select(g => g.GetProperty("id").GetString()!).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ours, ids.Where(ours.Contains));
        Assert.All(sizes.SkipLast(1), size => Assert.Equal(2, size));
        Assert.InRange(sizes[^1], 0, 2);

        var all = (await Api.GetJsonAsync("/api/groups")).EnumerateArray().Select(g => g.GetProperty("id").GetString()!).ToList();
        Assert.Equal(all, ids);
        await (await Api.GetAsync("/api/groups?limit=0")).ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Alert_rules_list_oldest_first_a_page_at_a_time_and_keep_their_place_when_a_rule_is_deleted()
    {
        await Api.RegisterAsync("paging-target");
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var rule = await (await Api.PostJsonAsync("/api/alert-rules",
                $$"""{"target":"paging-target","metric":"score","threshold":{{50 + i}},"coolDown":"PT10M","webhook":"http://127.0.0.1:9/hook","secret":"s3cret-value"}""")).JsonAsync(HttpStatusCode.Created);
            created.Add(rule.GetProperty("id").GetString()!);
        }

        var (items, sizes) = await WalkAsync("/api/alert-rules?limit=2");
        var ids = items.Select(r => r.GetProperty("id").GetString()!).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(created, ids.Where(created.Contains));
        Assert.All(items, r => Assert.False(r.TryGetProperty("secret", out _)));
        Assert.All(sizes.SkipLast(1), size => Assert.Equal(2, size));

        // A page's cursor names its last rule's place, not the rule: deleting that rule loses nothing after it.
        var first = await Api.GetAsync("/api/alert-rules?limit=1");
        var firstId = (await first.JsonAsync())[0].GetProperty("id").GetString()!;
        var next = first.Headers.GetValues("Link").Single().Split('<', '>')[1];
        Assert.Equal(HttpStatusCode.NoContent, (await Api.DeleteAsync($"/api/alert-rules/{firstId}")).StatusCode);
        var (rest, _) = await WalkAsync(next);
        Assert.Equal(ids.Skip(1).Where(id => id != firstId), rest.Select(r => r.GetProperty("id").GetString()!).Where(id => ids.Contains(id)));

        var bad = await (await Api.GetAsync("/api/alert-rules?after=rule-x")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("after: not a cursor of this list; take it from the Link header of the previous page", bad);
    }
}
