using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace ImpactGrains.Client;

/// <summary>
/// The typed client of the ImpactGrains HTTP API. Build it with <see cref="Create"/>, register it with
/// <c>services.AddImpactClient(…)</c>, or wrap an <see cref="HttpClient"/> of your own (then without the retry pipeline).
/// Every error answer throws an <see cref="ImpactApiException"/>; a server that cannot be reached throws
/// <see cref="HttpRequestException"/>; an attempt without an answer in time throws <see cref="TimeoutException"/>.
/// </summary>
public sealed class ImpactClient : IDisposable
{
    /// <summary>The JSON form of the API: camelCase, ISO 8601 instants and durations, nulls left out of requests.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = CreateJsonOptions();

    private static readonly MediaTypeHeaderValue JsonType = new("application/json") { CharSet = "utf-8" };
    private static readonly MediaTypeHeaderValue NdjsonType = new("application/x-ndjson");

    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly ImpactClientOptions options;

    /// <summary>
    /// Wraps an <see cref="HttpClient"/>. Its handlers are used as they are: the 429/503 retries come with
    /// <see cref="Create"/> and <c>AddImpactClient</c>. The base address is <paramref name="options"/>' or the client's.
    /// </summary>
    public ImpactClient(HttpClient http, ImpactClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        this.http = http;
        this.options = options ?? new ImpactClientOptions();
        var address = this.options.BaseAddress ?? http.BaseAddress ??
                      throw new ArgumentException("no base address: set ImpactClientOptions.BaseAddress or HttpClient.BaseAddress", nameof(options));
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"the base address '{address}' is not an absolute http or https URI", nameof(options));
        }

        // Relative paths resolve under the base address's own path only with a trailing slash.
        BaseAddress = address.AbsolutePath.EndsWith('/') ? address : new Uri(address + "/");
    }

    private ImpactClient(HttpClient http, ImpactClientOptions options, bool ownsHttp)
        : this(http, options) => this.ownsHttp = ownsHttp;

    /// <summary>
    /// A client with its own connection pool and the resilience pipeline (429 and 503 retried after their
    /// <c>Retry-After</c>, attempts bounded by <see cref="ImpactClientOptions.AttemptTimeout"/>). Dispose it when done.
    /// </summary>
    public static ImpactClient Create(ImpactClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>();
        ImpactResilience.Configure(pipeline, options);
        var handler = new ResilienceHandler(pipeline.Build())
        {
            InnerHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AutomaticDecompression = DecompressionMethods.All,
            },
        };
        return new ImpactClient(new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }, options, ownsHttp: true);
    }

    /// <summary>The server's base address; the API is under <c>api/</c> below it.</summary>
    public Uri BaseAddress { get; }

    // ---- Entities and links ----

    /// <summary><c>PUT /api/entities/{id}</c>: creates or updates an entity (name, kind and tags are replaced).</summary>
    public Task<Upserted<Entity>> PutEntityAsync(string id, EntityRequest entity, CancellationToken cancellationToken = default) =>
        UpsertAsync<Entity>(HttpMethod.Put, Path("api/entities/{0}", id), entity, cancellationToken);

    /// <summary>
    /// <c>GET /api/entities</c>, page after page: every entity (or those whose id or name contains
    /// <paramref name="search"/>, of <paramref name="kind"/>), ordered by id, with its current score.
    /// </summary>
    public async Task<IReadOnlyList<EntitySummary>> ListEntitiesAsync(string? search = null, string? kind = null, CancellationToken cancellationToken = default)
    {
        var all = new List<EntitySummary>();
        await foreach (var entity in EnumerateEntitiesAsync(search, kind, cancellationToken: cancellationToken))
        {
            all.Add(entity);
        }

        return all;
    }

    /// <summary>
    /// <c>GET /api/entities</c> as a stream: pages of <paramref name="pageSize"/> are fetched as the caller reads, so a
    /// catalog of millions is walked in constant memory.
    /// </summary>
    public async IAsyncEnumerable<EntitySummary> EnumerateEntitiesAsync(string? search = null, string? kind = null, int? pageSize = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? after = null;
        do
        {
            var page = await ListEntitiesPageAsync(new EntityListQuery(search, kind, after, pageSize), cancellationToken);
            foreach (var entity in page.Entities)
            {
                yield return entity;
            }

            after = page.NextAfter;
        }
        while (after is not null);
    }

    /// <summary>
    /// <c>GET /api/entities</c>: one page in id order. <see cref="EntityPage.NextAfter"/> is the cursor of the next page
    /// (from the answer's <c>Link: rel="next"</c>), null on the last.
    /// </summary>
    public async Task<EntityPage> ListEntitiesPageAsync(EntityListQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new EntityListQuery();
        var (entities, next) = await GetPageAsync<EntitySummary>(
            Query("api/entities", ("limit", Number(query.Limit)), ("after", query.After), ("q", query.Search), ("kind", query.Kind)), cancellationToken);
        return new EntityPage(entities, next);
    }

    /// <summary>One page of a list route, and the cursor of the next page from its Link header (null on the last).</summary>
    private async Task<(IReadOnlyList<T> Items, string? Next)> GetPageAsync<T>(string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Resolve(relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return (await ReadAsync<IReadOnlyList<T>>(response, cancellationToken), NextCursor(response, "after"));
    }

    /// <summary>Every item of a list route, page after page.</summary>
    private async Task<IReadOnlyList<T>> GetAllPagesAsync<T>(string path, CancellationToken cancellationToken)
    {
        var all = new List<T>();
        string? after = null;
        do
        {
            var (items, next) = await GetPageAsync<T>(Query(path, ("after", after)), cancellationToken);
            all.AddRange(items);
            after = next;
        }
        while (after is not null);

        return all;
    }

    /// <summary>
    /// <c>PUT /api/entities</c>: creates or updates many entities in one transaction (sent as NDJSON). Each is judged on
    /// its own: the invalid ones are in <see cref="BulkResult.Rejected"/>, the rest are stored.
    /// </summary>
    public Task<BulkResult> PutEntitiesAsync(IEnumerable<BulkEntityRequest> entities, CancellationToken cancellationToken = default) =>
        PutBulkAsync("api/entities", entities, cancellationToken);

    /// <summary><c>PUT /api/links</c>: creates or updates many links in one transaction, each judged on its own.</summary>
    public Task<BulkResult> PutLinksAsync(IEnumerable<LinkRequest> links, CancellationToken cancellationToken = default) =>
        PutBulkAsync("api/links", links, cancellationToken);

    private async Task<BulkResult> PutBulkAsync<T>(string relative, IEnumerable<T> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var body = new MemoryStream();
        foreach (var item in items)
        {
            JsonSerializer.Serialize(body, item, JsonOptions);
            body.WriteByte((byte)'\n');
        }

        using var request = new HttpRequestMessage(HttpMethod.Put, Resolve(relative)) { Content = new ByteArrayContent(body.GetBuffer(), 0, (int)body.Length) };
        request.Content.Headers.ContentType = NdjsonType;
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return await ReadAsync<BulkResult>(response, cancellationToken);
    }

    /// <summary>
    /// The named query parameter of the answer's <c>Link: &lt;…&gt;; rel="next"</c>: the cursor itself rather than the
    /// link's path, which a proxy serving the API under a prefix would not know.
    /// </summary>
    private static string? NextCursor(HttpResponseMessage response, string parameter)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (var link in values.SelectMany(v => v.Split(',')))
        {
            var parts = link.Split(';', StringSplitOptions.TrimEntries);
            if (parts.Length < 2 || !parts[0].StartsWith('<') || !parts[0].EndsWith('>') ||
                !parts.Skip(1).Any(p => p.Replace(" ", "", StringComparison.Ordinal) is "rel=\"next\"" or "rel=next"))
            {
                continue;
            }

            var target = parts[0][1..^1];
            var question = target.IndexOf('?', StringComparison.Ordinal);
            if (question < 0)
            {
                return null;
            }

            foreach (var pair in target[(question + 1)..].Split('&'))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0 && pair[..equals] == parameter)
                {
                    return Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
                }
            }
        }

        return null;
    }

    /// <summary><c>GET /api/entities/{id}</c>: the entity with its links.</summary>
    public Task<Entity> GetEntityAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<Entity>(Path("api/entities/{0}", id), cancellationToken);

    /// <summary><c>PUT /api/links</c>: creates or updates the link from one entity to another.</summary>
    public Task<Upserted<Link>> PutLinkAsync(LinkRequest link, CancellationToken cancellationToken = default) =>
        UpsertAsync<Link>(HttpMethod.Put, "api/links", link, cancellationToken);

    /// <summary><c>DELETE /api/links</c>: removes a link (404 when there is none).</summary>
    public Task DeleteLinkAsync(string from, string to, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, Query("api/links", ("from", from), ("to", to)), cancellationToken);

    // ---- Events ----

    /// <summary><c>POST /api/events</c> with one event.</summary>
    public Task<IngestionResult> PostEventAsync(EventRequest @event, CancellationToken cancellationToken = default) =>
        PostEventsAsync([@event], cancellationToken);

    /// <summary>
    /// <c>POST /api/events</c> with these events in one request (at most the server's
    /// <c>Impact:Ingestion:MaxEventsPerRequest</c>, 10,000 by default). Answers once the accepted ones are committed;
    /// an event refused on its own is in <see cref="IngestionResult.Rejected"/>, not an exception.
    /// </summary>
    public async Task<IngestionResult> PostEventsAsync(IEnumerable<EventRequest> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var body = JsonSerializer.SerializeToUtf8Bytes(events as IReadOnlyList<EventRequest> ?? events.ToList(), JsonOptions);
        return await PostEventBodyAsync(body, JsonType, cancellationToken);
    }

    /// <summary>
    /// Posts a sequence of any length, in batches of <see cref="ImpactClientOptions.EventBatchSize"/> events and
    /// <see cref="ImpactClientOptions.EventBatchBytes"/> bytes, one request at a time, and adds up the answers. A batch
    /// the server finds too large (413) is split in halves. Rejected events carry their position in the whole sequence.
    /// Event ids are idempotent, so after a failure the same sequence can be posted again: what was stored counts as
    /// duplicates.
    /// </summary>
    public async Task<IngestionTotals> PostEventsAsync(IAsyncEnumerable<EventRequest> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var maxEvents = Math.Max(1, options.EventBatchSize);
        var maxBytes = Math.Max(1024, options.EventBatchBytes);
        long accepted = 0, duplicates = 0;
        var rejected = new List<RejectedEvent>();
        var requests = 0;
        var lines = new List<byte[]>();
        var bytes = 0;
        var first = 0;

        async Task FlushAsync()
        {
            if (lines.Count == 0)
            {
                return;
            }

            await SendLinesAsync(lines, 0, lines.Count, first);
            first += lines.Count;
            lines.Clear();
            bytes = 0;
        }

        async Task SendLinesAsync(List<byte[]> batch, int from, int to, int offset)
        {
            var body = new byte[batch.Skip(from).Take(to - from).Sum(l => l.Length + 1)];
            var at = 0;
            for (var i = from; i < to; i++)
            {
                batch[i].CopyTo(body, at);
                at += batch[i].Length;
                body[at++] = (byte)'\n';
            }

            IngestionResult result;
            try
            {
                requests++;
                result = await PostNdjsonAsync(body, cancellationToken);
            }
            catch (ImpactApiException e) when (e.Status == (int)HttpStatusCode.RequestEntityTooLarge && to - from > 1)
            {
                var middle = from + (to - from) / 2;
                await SendLinesAsync(batch, from, middle, offset);
                await SendLinesAsync(batch, middle, to, offset + (middle - from));
                return;
            }

            accepted += result.Accepted;
            duplicates += result.Duplicates;
            rejected.AddRange(result.Rejected.Select(r => r with { Index = offset + r.Index }));
        }

        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            var line = JsonSerializer.SerializeToUtf8Bytes(e, JsonOptions);
            if (lines.Count > 0 && (lines.Count >= maxEvents || bytes + line.Length + 1 > maxBytes))
            {
                await FlushAsync();
            }

            lines.Add(line);
            bytes += line.Length + 1;
        }

        await FlushAsync();
        return new IngestionTotals(accepted, duplicates, rejected, requests);
    }

    /// <summary>
    /// <c>POST /api/events</c> with a body already in NDJSON (one event per line), sent as it is: for events read from
    /// a file, where the server is to judge each line, broken ones included.
    /// </summary>
    public Task<IngestionResult> PostNdjsonAsync(ReadOnlyMemory<byte> ndjson, CancellationToken cancellationToken = default) =>
        PostEventBodyAsync(ndjson, NdjsonType, cancellationToken);

    private async Task<IngestionResult> PostEventBodyAsync(ReadOnlyMemory<byte> body, MediaTypeHeaderValue type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Resolve("api/events")) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = type;
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return await ReadAsync<IngestionResult>(response, cancellationToken);
    }

    /// <summary><c>GET /api/entities/{id}/events</c>: the entity's events as stored, newest first; page with <paramref name="before"/>.</summary>
    public Task<EventsPage> GetEventsAsync(string entity, int? limit = null, DateTimeOffset? before = null, CancellationToken cancellationToken = default) =>
        GetAsync<EventsPage>(Query(Path("api/entities/{0}/events", entity), ("limit", Number(limit)), ("before", Instant(before))), cancellationToken);

    // ---- Scores ----

    /// <summary><c>GET /api/entities/{id}/impact</c>: the entity's impact at <paramref name="at"/> (now by default).</summary>
    public Task<ImpactReport> GetImpactAsync(string entity, DateTimeOffset? at = null, CancellationToken cancellationToken = default) =>
        GetAsync<ImpactReport>(Query(Path("api/entities/{0}/impact", entity), ("at", Instant(at))), cancellationToken);

    /// <summary><c>GET /api/entities/{id}/explain</c>: the events behind the score, largest first (20 by default).</summary>
    public Task<ExplainReport> ExplainAsync(string entity, DateTimeOffset? at = null, int? limit = null, CancellationToken cancellationToken = default) =>
        GetAsync<ExplainReport>(Query(Path("api/entities/{0}/explain", entity), ("at", Instant(at)), ("limit", Number(limit))), cancellationToken);

    /// <summary>
    /// <c>GET /api/entities/{id}/history</c>: the score at <paramref name="from"/>, <paramref name="from"/> + step, … up
    /// to <paramref name="to"/> (defaults: the last 7 days, hourly).
    /// </summary>
    public Task<HistoryReport> GetHistoryAsync(string entity, DateTimeOffset? from = null, DateTimeOffset? to = null, TimeSpan? step = null, CancellationToken cancellationToken = default) =>
        GetAsync<HistoryReport>(HistoryQuery(Path("api/entities/{0}/history", entity), from, to, step), cancellationToken);

    /// <summary>
    /// <c>GET /api/leaderboard</c>: entities ranked by score (or by a category's or a region's, not both), optionally of
    /// one kind; 10 by default; the live ranking unless <paramref name="at"/> is given.
    /// </summary>
    public Task<LeaderboardResponse> GetLeaderboardAsync(string? kind = null, string? category = null, string? region = null, int? limit = null, DateTimeOffset? at = null,
        CancellationToken cancellationToken = default) =>
        GetAsync<LeaderboardResponse>(Query("api/leaderboard", ("kind", kind), ("category", category), ("region", region), ("limit", Number(limit)), ("at", Instant(at))), cancellationToken);

    // ---- Groups ----

    /// <summary><c>PUT /api/groups/{id}</c>: creates or replaces a group.</summary>
    public Task<Upserted<Group>> PutGroupAsync(string id, GroupRequest group, CancellationToken cancellationToken = default) =>
        UpsertAsync<Group>(HttpMethod.Put, Path("api/groups/{0}", id), group, cancellationToken);

    /// <summary><c>GET /api/groups</c>, page after page: every group's definition, in id order.</summary>
    public Task<IReadOnlyList<Group>> ListGroupsAsync(CancellationToken cancellationToken = default) =>
        GetAllPagesAsync<Group>("api/groups", cancellationToken);

    /// <summary><c>GET /api/groups/{id}</c>: a group's definition.</summary>
    public Task<Group> GetGroupAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<Group>(Path("api/groups/{0}", id), cancellationToken);

    /// <summary><c>GET /api/groups/{id}/impact</c>: the group's combined score and each member's share.</summary>
    public Task<GroupImpactReport> GetGroupImpactAsync(string id, DateTimeOffset? at = null, CancellationToken cancellationToken = default) =>
        GetAsync<GroupImpactReport>(Query(Path("api/groups/{0}/impact", id), ("at", Instant(at))), cancellationToken);

    /// <summary><c>GET /api/groups/{id}/explain</c>: the events behind the group's score.</summary>
    public Task<GroupExplainReport> ExplainGroupAsync(string id, DateTimeOffset? at = null, int? limit = null, CancellationToken cancellationToken = default) =>
        GetAsync<GroupExplainReport>(Query(Path("api/groups/{0}/explain", id), ("at", Instant(at)), ("limit", Number(limit))), cancellationToken);

    /// <summary><c>GET /api/groups/{id}/history</c>: the group's score over time.</summary>
    public Task<HistoryReport> GetGroupHistoryAsync(string id, DateTimeOffset? from = null, DateTimeOffset? to = null, TimeSpan? step = null, CancellationToken cancellationToken = default) =>
        GetAsync<HistoryReport>(HistoryQuery(Path("api/groups/{0}/history", id), from, to, step), cancellationToken);

    // ---- Alerts ----

    /// <summary><c>POST /api/alert-rules</c>: creates a rule; its id is generated and its secret never shown again.</summary>
    public async Task<AlertRule> CreateAlertRuleAsync(AlertRuleRequest rule, CancellationToken cancellationToken = default) =>
        (await UpsertAsync<AlertRule>(HttpMethod.Post, "api/alert-rules", rule, cancellationToken)).Value;

    /// <summary><c>GET /api/alert-rules</c>, page after page: every rule, oldest first.</summary>
    public Task<IReadOnlyList<AlertRule>> ListAlertRulesAsync(CancellationToken cancellationToken = default) =>
        GetAllPagesAsync<AlertRule>("api/alert-rules", cancellationToken);

    /// <summary><c>GET /api/alert-rules/{id}</c>: one rule.</summary>
    public Task<AlertRule> GetAlertRuleAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<AlertRule>(Path("api/alert-rules/{0}", id), cancellationToken);

    /// <summary><c>DELETE /api/alert-rules/{id}</c>: removes a rule and cancels its undelivered alerts.</summary>
    public Task DeleteAlertRuleAsync(string id, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, Path("api/alert-rules/{0}", id), cancellationToken);

    /// <summary><c>GET /api/alerts</c>: alerts, newest first, each with its delivery; page with <paramref name="before"/>.</summary>
    public Task<AlertsPage> ListAlertsAsync(int? limit = null, DateTimeOffset? before = null, CancellationToken cancellationToken = default) =>
        GetAsync<AlertsPage>(Query("api/alerts", ("limit", Number(limit)), ("before", Instant(before))), cancellationToken);

    /// <summary><c>GET /api/alerts/{id}/deliveries</c>: every HTTP attempt of an alert's webhook delivery.</summary>
    public Task<DeliveryLog> GetDeliveriesAsync(string alertId, CancellationToken cancellationToken = default) =>
        GetAsync<DeliveryLog>(Path("api/alerts/{0}/deliveries", alertId), cancellationToken);

    // ---- Model versions ----

    /// <summary><c>GET /api/admin/models</c>: every registered model version, oldest first.</summary>
    public Task<IReadOnlyList<ModelVersion>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<ModelVersion>>("api/admin/models", cancellationToken);

    /// <summary><c>GET /api/admin/models/{name}</c>: one version.</summary>
    public Task<ModelVersion> GetModelAsync(string name, CancellationToken cancellationToken = default) =>
        GetAsync<ModelVersion>(Path("api/admin/models/{0}", name), cancellationToken);

    /// <summary>
    /// <c>POST /api/admin/models</c>: registers a version from the model's JSON form (<c>{"version":"v2","types":{…}}</c>;
    /// what it leaves out keeps v1's value). Created is false when it was registered with exactly these parameters.
    /// </summary>
    public Task<Upserted<ModelVersion>> RegisterModelAsync(JsonElement parameters, CancellationToken cancellationToken = default) =>
        UpsertAsync<ModelVersion>(HttpMethod.Post, "api/admin/models", parameters, cancellationToken);

    /// <summary><c>POST /api/admin/rescore</c>: replays the log under a version and reports which entities would move.</summary>
    public async Task<RescoreResponse> RescoreAsync(RescoreRequest request, CancellationToken cancellationToken = default) =>
        (await UpsertAsync<RescoreResponse>(HttpMethod.Post, "api/admin/rescore", request, cancellationToken)).Value;

    // ---- The live stream ----

    /// <summary>
    /// <c>GET /api/stream</c>: score changes, incidents and alerts as they happen, until <paramref name="cancellationToken"/>
    /// ends it. A dropped, ended or silent connection is replaced, resuming after the last event id with
    /// <c>Last-Event-ID</c>, after the server's <c>retry</c> or a backoff; the server replays what it still holds, or
    /// sends a <see cref="ResetEvent"/>. Errors when connecting (404 for an unknown entity or group, 400) throw; a
    /// server that cannot be reached throws only when the first connection fails.
    /// </summary>
    public async IAsyncEnumerable<StreamEvent> StreamAsync(StreamFilter? filter = null, StreamOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new StreamOptions();
        var url = Resolve(Query("api/stream", ("entity", filter?.Entity), ("group", filter?.Group), ("kind", filter?.Kind),
            ("types", filter?.Types is { Count: > 0 } types ? string.Join(',', types) : null)));
        var lastEventId = options.LastEventId;
        TimeSpan? serverRetry = null;
        var connected = false;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            if (lastEventId is not null)
            {
                request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
            }

            HttpResponseMessage? response = null;
            Exception? lost = null;
            try
            {
                response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (Exception e) when (connected && !cancellationToken.IsCancellationRequested &&
                                      e is HttpRequestException or TimeoutException or IOException or ImpactApiException { Status: 429 or 503 })
            {
                lost = e;
            }

            if (response is not null)
            {
                using (response)
                {
                    options.OnConnectionEvent?.Invoke(new StreamConnectionEvent(
                        connected ? StreamConnectionState.Reconnected : StreamConnectionState.Connected, url, lastEventId, null, null));
                    connected = true;
                    failures = 0;
                    await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                    var reader = new SseReader(body);
                    var dropped = false;
                    while (!dropped)
                    {
                        var (message, error) = await ReadEventAsync(reader, options.IdleTimeout, cancellationToken);
                        if (error is not null)
                        {
                            lost = error;
                            break;
                        }

                        if (message is null)
                        {
                            break;
                        }

                        if (message.Id is not null)
                        {
                            lastEventId = message.Id;
                        }

                        if (message.Retry is { } retry)
                        {
                            serverRetry = retry;
                        }

                        if (message.Event is null && message.Data.Length == 0)
                        {
                            continue;
                        }

                        var typed = StreamEvents.From(message, JsonOptions);
                        dropped = typed is DroppedEvent;
                        yield return typed;
                    }
                }
            }

            var delay = lost is null
                ? serverRetry ?? TimeSpan.FromSeconds(1)
                : serverRetry ?? StreamBackoff(++failures, options.MaxReconnectDelay);
            options.OnConnectionEvent?.Invoke(new StreamConnectionEvent(
                lost is null ? StreamConnectionState.Ended : StreamConnectionState.Lost, url, lastEventId, delay, lost?.Message));
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    /// <summary>The next event, or the failure that ended the connection (an iterator cannot yield inside a try with a catch).</summary>
    private static async Task<(SseMessage? Message, Exception? Error)> ReadEventAsync(SseReader reader, TimeSpan idle, CancellationToken cancellationToken)
    {
        try
        {
            return (await reader.ReadAsync(idle, cancellationToken), null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is IOException or HttpRequestException or TimeoutException)
        {
            return (null, e);
        }
    }

    private static TimeSpan StreamBackoff(int failures, TimeSpan max) =>
        TimeSpan.FromSeconds(Math.Min(max.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 10))));

    // ---- Plumbing ----

    /// <summary>
    /// <c>GET</c> of a path and query below <see cref="BaseAddress"/> (such as <c>api/entities/tesla/impact?at=…</c>),
    /// read as <typeparamref name="T"/>: for values the typed methods take in another form, such as an instant as the
    /// user typed it, left for the server to judge.
    /// </summary>
    public Task<T> GetAsync<T>(string pathAndQuery, CancellationToken cancellationToken = default) => GetCoreAsync<T>(pathAndQuery, cancellationToken);

    private async Task<T> GetCoreAsync<T>(string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Resolve(relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    private async Task<Upserted<T>> UpsertAsync<T>(HttpMethod method, string relative, object body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Resolve(relative)) { Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), JsonOptions)) };
        request.Content.Headers.ContentType = JsonType;
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return new Upserted<T>(await ReadAsync<T>(response, cancellationToken), response.StatusCode == HttpStatusCode.Created);
    }

    private async Task SendNoContentAsync(HttpMethod method, string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Resolve(relative));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
    }

    /// <summary>Sends with the key and user agent; a non-success answer becomes an <see cref="ImpactApiException"/>.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", options.ApiKey);
        }

        request.Headers.UserAgent.Add(new ProductInfoHeaderValue(options.UserAgent, Version));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, cancellationToken);
        }
        catch (Polly.Timeout.TimeoutRejectedException e)
        {
            throw new TimeoutException($"{request.Method} {request.RequestUri}: no answer within {options.AttemptTimeout.TotalSeconds:0.#} s", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{request.Method} {request.RequestUri}: no answer within {http.Timeout.TotalSeconds:0.#} s", e);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await ImpactApiException.FromResponseAsync(response, cancellationToken);
            }
        }

        return response;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return await JsonSerializer.DeserializeAsync<T>(body, JsonOptions, cancellationToken)
                   ?? throw new JsonException("the answer is null");
        }
        catch (JsonException e)
        {
            throw new ImpactApiException((int)response.StatusCode, $"HTTP {(int)response.StatusCode} with an unexpected body",
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: the answer is not the expected {typeof(T).Name} ({e.Message})", isProblem: false);
        }
    }

    private Uri Resolve(string relative) => new(BaseAddress, relative);

    /// <summary>A path with its segments escaped: <c>Path("api/entities/{0}", id)</c>.</summary>
    private static string Path(string format, params string[] segments) =>
        string.Format(CultureInfo.InvariantCulture, format, segments.Select(s => (object)Uri.EscapeDataString(s ?? throw new ArgumentNullException(nameof(segments)))).ToArray());

    private static string Query(string path, params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).ToArray();
        return given.Length == 0 ? path : path + "?" + string.Join('&', given.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}"));
    }

    private static string HistoryQuery(string path, DateTimeOffset? from, DateTimeOffset? to, TimeSpan? step) =>
        Query(path, ("from", Instant(from)), ("to", Instant(to)), ("step", step is { } s ? System.Xml.XmlConvert.ToString(s) : null));

    private static string? Instant(DateTimeOffset? value) => value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static string? Number(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string Version { get; } = typeof(ImpactClient).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        json.Converters.Add(new Iso8601DurationConverter());
        json.MakeReadOnly(populateMissingResolver: true);
        return json;
    }

    /// <summary>Disposes the HttpClient when this client made it (<see cref="Create"/>).</summary>
    public void Dispose()
    {
        if (ownsHttp)
        {
            http.Dispose();
        }
    }
}
