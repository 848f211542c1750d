using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ImpactGrains.Client;

// The requests and responses of the HTTP API, one record each, in the JSON form the API uses (camelCase). Their
// shapes follow the server's OpenAPI document (docs/openapi.json); a test compares them. Values that the API spells as
// words (kinds, event types, categories, methods, metrics) are strings, with their known values as constants below, so
// that a newer server's value never breaks an older client.

/// <summary>A create-or-replace answer: the stored value, and whether it was created (201) rather than replaced (200).</summary>
/// <param name="Value">What the server stored.</param>
/// <param name="Created">True for 201 Created, false for 200 OK (it existed and was replaced).</param>
public sealed record Upserted<T>(T Value, bool Created);

/// <summary>An entity to create or update with <c>PUT /api/entities/{id}</c>.</summary>
/// <param name="Name">Display name, 1–200 characters.</param>
/// <param name="Kind">One of <see cref="EntityKinds"/>.</param>
/// <param name="Tags">Up to 32 tags of 1–64 characters; repeats are dropped.</param>
public sealed record EntityRequest(string Name, string Kind, IReadOnlyList<string>? Tags = null);

/// <summary>An entity with every link that starts or ends at it.</summary>
/// <param name="Id">The entity id (lower-case letters, digits and '-').</param>
/// <param name="Name">Display name.</param>
/// <param name="Kind">One of <see cref="EntityKinds"/>.</param>
/// <param name="Tags">Its tags.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="Links">Links from and to it.</param>
public sealed record Entity(string Id, string Name, string Kind, IReadOnlyList<string> Tags, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<Link> Links);

/// <summary>An entity in the list of all entities, with its current score.</summary>
/// <param name="Id">The entity id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Kind">One of <see cref="EntityKinds"/>.</param>
/// <param name="Score">Its score now, 0–100.</param>
public sealed record EntitySummary(string Id, string Name, string Kind, double Score);

/// <summary>What <see cref="ImpactClient.ListEntitiesPageAsync"/> asks for; every part optional.</summary>
/// <param name="Search">Only entities whose id or name contains it (case-insensitive).</param>
/// <param name="Kind">Only entities of this kind (one of <see cref="EntityKinds"/>).</param>
/// <param name="After">The cursor from the previous page's <see cref="EntityPage.NextAfter"/>.</param>
/// <param name="Limit">Entities per page (the server's default is 1,000).</param>
public sealed record EntityListQuery(string? Search = null, string? Kind = null, string? After = null, int? Limit = null);

/// <summary>One page of <c>GET /api/entities</c>.</summary>
/// <param name="Entities">The page, in id order.</param>
/// <param name="NextAfter">The cursor of the next page, or null when this is the last.</param>
public sealed record EntityPage(IReadOnlyList<EntitySummary> Entities, string? NextAfter);

/// <summary>An entity in a bulk registration (<see cref="ImpactClient.PutEntitiesAsync"/>): the fields of <see cref="EntityRequest"/> with its id.</summary>
/// <param name="Id">The entity id: lower-case letters, digits and '-', 1–64 characters.</param>
/// <param name="Name">Display name, 1–200 characters.</param>
/// <param name="Kind">One of <see cref="EntityKinds"/>.</param>
/// <param name="Tags">Up to 32 tags of 1–64 characters.</param>
public sealed record BulkEntityRequest(string Id, string Name, string Kind, IReadOnlyList<string>? Tags = null);

/// <summary>What a bulk registration did.</summary>
/// <param name="Upserted">How many items were stored (created or updated).</param>
/// <param name="Rejected">The items refused, each with its position in the request and the reason.</param>
public sealed record BulkResult(int Upserted, IReadOnlyList<BulkRejection> Rejected);

/// <summary>An item of a bulk registration that was refused.</summary>
/// <param name="Index">Its zero-based position in the request.</param>
/// <param name="Id">Its id (for a link, "from->to"), when it had one.</param>
/// <param name="Error">Why it was refused.</param>
public sealed record BulkRejection(int Index, string? Id, string Error);

/// <summary>A link to create or update with <c>PUT /api/links</c>: <paramref name="From"/>'s direct impact flows into <paramref name="To"/>'s inherited impact.</summary>
/// <param name="From">The entity whose direct impact flows.</param>
/// <param name="To">The entity that inherits it; different from <paramref name="From"/>.</param>
/// <param name="Weight">The share that flows, in (0, 1].</param>
/// <param name="Relation">What the link is, 1–64 characters, such as ceo.</param>
public sealed record LinkRequest(string From, string To, double Weight, string Relation);

/// <summary>A link between two entities.</summary>
/// <param name="From">The entity whose direct impact flows.</param>
/// <param name="To">The entity that inherits it.</param>
/// <param name="Weight">The share that flows, in (0, 1].</param>
/// <param name="Relation">What the link is.</param>
public sealed record Link(string From, string To, double Weight, string Relation);

/// <summary>
/// One event for <c>POST /api/events</c>. The factory methods (<see cref="Outage"/>, <see cref="StockChange"/>, …) fill
/// <see cref="Data"/> with the fields of their type; add <see cref="Region"/>, <see cref="Confidence"/> or
/// <see cref="Source"/> with <c>with { … }</c>.
/// </summary>
/// <param name="Id">The idempotency key, 1–200 characters: posting the same id again changes nothing.</param>
/// <param name="Entity">A registered entity id.</param>
/// <param name="Type">One of <see cref="EventTypes"/>.</param>
/// <param name="OccurredAt">When it happened; at most 5 minutes in the future.</param>
/// <param name="Region">An ISO 3166-1 alpha-2 code or GLOBAL (the default).</param>
/// <param name="Confidence">0–1, default 1; a disputed claim weighs less.</param>
/// <param name="Source">Where it was reported, up to 500 characters.</param>
/// <param name="Data">The type's own fields (docs/api.md lists them).</param>
public sealed record EventRequest(
    string Id,
    string Entity,
    string Type,
    DateTimeOffset OccurredAt,
    string? Region = null,
    double? Confidence = null,
    string? Source = null,
    JsonObject? Data = null)
{
    /// <summary>An outage: reports against a baseline, for a duration.</summary>
    public static EventRequest Outage(string id, string entity, DateTimeOffset occurredAt, long reports, long? baselineReports = null, double? durationMinutes = null, string? region = null) =>
        new(id, entity, EventTypes.Outage, occurredAt, region, Data: Fields(("reports", reports), ("baselineReports", baselineReports), ("durationMinutes", durationMinutes)));

    /// <summary>A cyberattack, claimed by the attackers or not.</summary>
    public static EventRequest Cyberattack(string id, string entity, DateTimeOffset occurredAt, bool? claimed = null, string? attribution = null, string? region = null) =>
        new(id, entity, EventTypes.Cyberattack, occurredAt, region, Data: Fields(("claimed", claimed), ("attribution", attribution)));

    /// <summary>A protest: participants, locations, or both.</summary>
    public static EventRequest Protest(string id, string entity, DateTimeOffset occurredAt, long? participants = null, long? locations = null, string? region = null) =>
        new(id, entity, EventTypes.Protest, occurredAt, region, Data: Fields(("participants", participants), ("locations", locations)));

    /// <summary>A change of sales, in percent (−100 to 10⁶).</summary>
    public static EventRequest SalesChange(string id, string entity, DateTimeOffset occurredAt, double percent, long? units = null, string? period = null, string? region = null) =>
        new(id, entity, EventTypes.SalesChange, occurredAt, region, Data: Fields(("percent", percent), ("units", units), ("period", period)));

    /// <summary>A change of the share price, in percent.</summary>
    public static EventRequest StockChange(string id, string entity, DateTimeOffset occurredAt, double percent, double? closePrice = null, string? region = null) =>
        new(id, entity, EventTypes.StockChange, occurredAt, region, Data: Fields(("percent", percent), ("closePrice", closePrice)));

    /// <summary>A change of net worth in US dollars, and the net worth after it.</summary>
    public static EventRequest NetWorthChange(string id, string entity, DateTimeOffset occurredAt, double deltaUsd, double? netWorthUsd = null, string? region = null) =>
        new(id, entity, EventTypes.NetWorthChange, occurredAt, region, Data: Fields(("deltaUsd", deltaUsd), ("netWorthUsd", netWorthUsd)));

    /// <summary>A product failure of a severity (<see cref="Severities"/>).</summary>
    public static EventRequest ProductFailure(string id, string entity, DateTimeOffset occurredAt, string severity, string? description = null, string? region = null) =>
        new(id, entity, EventTypes.ProductFailure, occurredAt, region, Data: Fields(("severity", severity), ("description", description)));

    /// <summary>A statement of a severity (<see cref="Severities"/>).</summary>
    public static EventRequest Statement(string id, string entity, DateTimeOffset occurredAt, string severity, string? description = null, string? region = null) =>
        new(id, entity, EventTypes.Statement, occurredAt, region, Data: Fields(("severity", severity), ("description", description)));

    private static JsonObject Fields(params (string Name, object? Value)[] fields)
    {
        var data = new JsonObject();
        foreach (var (name, value) in fields)
        {
            if (value is not null)
            {
                data[name] = JsonSerializer.SerializeToNode(value, value.GetType());
            }
        }

        return data;
    }
}

/// <summary>An event as the log stores it: normalised, in UTC, with the entity's sequence.</summary>
/// <param name="Sequence">Its position among the entity's events (1, 2, 3, …).</param>
/// <param name="Id">The event id.</param>
/// <param name="Entity">The entity it happened to.</param>
/// <param name="Type">One of <see cref="EventTypes"/>.</param>
/// <param name="OccurredAt">When it happened.</param>
/// <param name="Region">Its region, upper case; GLOBAL when none was given.</param>
/// <param name="Confidence">0–1.</param>
/// <param name="Source">Where it was reported, if given.</param>
/// <param name="Data">The type's own fields.</param>
public sealed record LoggedEvent(long Sequence, string Id, string Entity, string Type, DateTimeOffset OccurredAt, string Region, double Confidence, string? Source, JsonObject? Data);

/// <summary>A page of an entity's events, newest first.</summary>
/// <param name="Entity">The entity id.</param>
/// <param name="Events">The events.</param>
public sealed record EventsPage(string Entity, IReadOnlyList<LoggedEvent> Events);

/// <summary>The answer to one <c>POST /api/events</c>, sent once the accepted events are committed.</summary>
/// <param name="Accepted">Events newly stored.</param>
/// <param name="Duplicates">Events whose id was already logged (or earlier in the same request).</param>
/// <param name="Rejected">Events refused on their own, with the reason.</param>
public sealed record IngestionResult(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected);

/// <summary>An event refused on its own.</summary>
/// <param name="Index">Its 0-based position: in the request for <see cref="IngestionResult"/>, in the whole sequence for <see cref="IngestionTotals"/>.</param>
/// <param name="Id">Its id, where it could be read.</param>
/// <param name="Error">Why, naming the field.</param>
public sealed record RejectedEvent(int Index, string? Id, string Error);

/// <summary>What a batched post of many events came to.</summary>
/// <param name="Accepted">Events newly stored.</param>
/// <param name="Duplicates">Events already logged.</param>
/// <param name="Rejected">Events refused, with their position in the whole sequence.</param>
/// <param name="Requests">How many requests carried them.</param>
public sealed record IngestionTotals(long Accepted, long Duplicates, IReadOnlyList<RejectedEvent> Rejected, int Requests)
{
    /// <summary>Every event the server acknowledged: accepted, duplicate or rejected.</summary>
    public long Total => Accepted + Duplicates + Rejected.Count;
}

/// <summary>The highest score an entity reached at or before an instant.</summary>
/// <param name="Score">The peak score; 0 before the first event.</param>
/// <param name="At">When; null before the first event.</param>
public sealed record PeakReport(double Score, DateTimeOffset? At);

/// <summary>An entity's impact at one instant; every score lies in [0, 100].</summary>
/// <param name="Entity">The entity id.</param>
/// <param name="At">The instant, in UTC.</param>
/// <param name="Score">From direct and inherited impact together.</param>
/// <param name="Direct">From the entity's own events.</param>
/// <param name="Inherited">From the direct impact of entities linked into it.</param>
/// <param name="Categories">operational, market, financial and reputational, always all four.</param>
/// <param name="Regions">One entry per region with impact.</param>
/// <param name="Peak">The highest score reached at or before <paramref name="At"/>.</param>
/// <param name="Trend24h">The score minus the score 24 hours before.</param>
/// <param name="EventCount">The entity's own events at or before <paramref name="At"/>.</param>
/// <param name="ModelVersion">The scoring model that produced the numbers.</param>
public sealed record ImpactReport(
    string Entity,
    DateTimeOffset At,
    double Score,
    double Direct,
    double Inherited,
    IReadOnlyDictionary<string, double> Categories,
    IReadOnlyDictionary<string, double> Regions,
    PeakReport Peak,
    double Trend24h,
    int EventCount,
    string ModelVersion);

/// <summary>One event behind a score.</summary>
/// <param name="EventId">The event id.</param>
/// <param name="Entity">Where it happened: this entity, or a linked one for inherited impact.</param>
/// <param name="Type">Its event type.</param>
/// <param name="OccurredAt">When it happened.</param>
/// <param name="Category">Its category.</param>
/// <param name="Contribution"><paramref name="Share"/> × score, in score points.</param>
/// <param name="Share">Its part of the raw impact, in [0, 1].</param>
public sealed record EventContribution(string EventId, string Entity, string Type, DateTimeOffset OccurredAt, string Category, double Contribution, double Share);

/// <summary>The events behind an entity's score, largest first.</summary>
/// <param name="Entity">The entity id.</param>
/// <param name="At">The instant.</param>
/// <param name="Contributions">The events, largest contribution first.</param>
public sealed record ExplainReport(string Entity, DateTimeOffset At, IReadOnlyList<EventContribution> Contributions);

/// <summary>A score at one instant.</summary>
/// <param name="At">The instant.</param>
/// <param name="Score">The score then.</param>
public sealed record HistoryPoint(DateTimeOffset At, double Score);

/// <summary>Scores at evenly spaced instants.</summary>
/// <param name="Entity">The entity (or group) id.</param>
/// <param name="Points">From the first instant to the last.</param>
public sealed record HistoryReport(string Entity, IReadOnlyList<HistoryPoint> Points);

/// <summary>An entity on the leaderboard.</summary>
/// <param name="Entity">The entity id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Score">The score it is ranked by (overall, a category's or a region's).</param>
public sealed record LeaderboardEntry(string Entity, string Name, string Kind, double Score);

/// <summary>Entities ranked by score, highest first.</summary>
/// <param name="At">The instant.</param>
/// <param name="Kind">The kind filter, if any.</param>
/// <param name="Category">The category ranked by, if any.</param>
/// <param name="Region">The region ranked by, if any.</param>
/// <param name="Entries">The ranking.</param>
public sealed record LeaderboardResponse(DateTimeOffset At, string? Kind, string? Category, string? Region, IReadOnlyList<LeaderboardEntry> Entries);

/// <summary>A member of a group and its weight.</summary>
/// <param name="Entity">The entity id.</param>
/// <param name="Weight">In (0, 1]; 1 by default.</param>
public sealed record GroupMember(string Entity, double Weight = 1);

/// <summary>A group (portfolio) to create or replace with <c>PUT /api/groups/{id}</c>.</summary>
/// <param name="Name">Display name.</param>
/// <param name="Method">One of <see cref="GroupMethods"/>.</param>
/// <param name="Members">1–1000 members, each once.</param>
public sealed record GroupRequest(string Name, string Method, IReadOnlyList<GroupMember> Members);

/// <summary>A group's definition.</summary>
/// <param name="Id">The group id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Method">How its members' scores combine (<see cref="GroupMethods"/>).</param>
/// <param name="Members">Its members.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record Group(string Id, string Name, string Method, IReadOnlyList<GroupMember> Members, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A member's part of a group's score.</summary>
/// <param name="Entity">The member.</param>
/// <param name="Weight">Its weight.</param>
/// <param name="Score">Its own score.</param>
/// <param name="Share">Its share of the group's score.</param>
public sealed record GroupMemberScore(string Entity, double Weight, double Score, double Share);

/// <summary>A group's combined impact at one instant.</summary>
/// <param name="Group">The group id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Method">How the scores combine.</param>
/// <param name="At">The instant.</param>
/// <param name="Score">The group's score.</param>
/// <param name="Trend24h">The score minus the score 24 hours before.</param>
/// <param name="Members">Each member's score and share.</param>
/// <param name="ModelVersion">The scoring model.</param>
/// <param name="Regions">The group's score from each region's events alone: the members' region scores combined by the group's method.</param>
public sealed record GroupImpactReport(
    string Group, string Name, string Method, DateTimeOffset At, double Score, double Trend24h, IReadOnlyList<GroupMemberScore> Members, string ModelVersion,
    IReadOnlyDictionary<string, double> Regions);

/// <summary>One event behind a group's score.</summary>
/// <param name="EventId">The event id.</param>
/// <param name="Member">The group member it counts through.</param>
/// <param name="Entity">Where it happened.</param>
/// <param name="Type">Its event type.</param>
/// <param name="OccurredAt">When it happened.</param>
/// <param name="Category">Its category.</param>
/// <param name="Contribution">In score points.</param>
/// <param name="Share">Its part of the group's score.</param>
public sealed record GroupContribution(string EventId, string Member, string Entity, string Type, DateTimeOffset OccurredAt, string Category, double Contribution, double Share);

/// <summary>The events behind a group's score, largest first.</summary>
/// <param name="Group">The group id.</param>
/// <param name="At">The instant.</param>
/// <param name="Contributions">The events.</param>
public sealed record GroupExplainReport(string Group, DateTimeOffset At, IReadOnlyList<GroupContribution> Contributions);

/// <summary>An alert rule to create with <c>POST /api/alert-rules</c>.</summary>
/// <param name="Target">An entity id, <c>group:&lt;id&gt;</c>, or <c>*</c> for every entity.</param>
/// <param name="Metric">One of <see cref="AlertMetrics"/>.</param>
/// <param name="Threshold">0–100 for score and the categories, −100–100 for trend24h, 0–1000 for spike (a z-score).</param>
/// <param name="CoolDown">At least one second: the rule fires at most once per cool-down per target.</param>
/// <param name="Webhook">An absolute http or https URL.</param>
/// <param name="Secret">8–200 characters; signs the webhook requests (HMAC-SHA256); never shown again.</param>
public sealed record AlertRuleRequest(string Target, string Metric, double Threshold, TimeSpan CoolDown, Uri Webhook, string Secret);

/// <summary>An alert rule, without its secret.</summary>
/// <param name="Id">The generated id.</param>
/// <param name="Target">What it watches.</param>
/// <param name="Metric">Which metric.</param>
/// <param name="Threshold">The threshold.</param>
/// <param name="CoolDown">The cool-down.</param>
/// <param name="Webhook">Where alerts go.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record AlertRule(string Id, string Target, string Metric, double Threshold, TimeSpan CoolDown, Uri Webhook, DateTimeOffset CreatedAt);

/// <summary>The webhook delivery of an alert.</summary>
/// <param name="Id">The delivery id; receivers deduplicate on it.</param>
/// <param name="Status">pending, delivered, failed or cancelled.</param>
/// <param name="Attempts">HTTP attempts made so far.</param>
/// <param name="CreatedAt">When the alert was recorded.</param>
/// <param name="NextAttemptAt">When a pending delivery is tried again.</param>
/// <param name="CompletedAt">When it was settled.</param>
/// <param name="LastError">The last failure.</param>
public sealed record WebhookDelivery(string Id, string Status, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? CompletedAt, string? LastError);

/// <summary>An alert a rule fired, with its delivery.</summary>
/// <param name="Id">Derived from the rule, the target and the instant.</param>
/// <param name="RuleId">The rule.</param>
/// <param name="Target">What fired: the entity id, or group:&lt;id&gt;.</param>
/// <param name="Metric">The metric.</param>
/// <param name="Entity">The entity whose values fired it.</param>
/// <param name="Group">The group, for a group rule.</param>
/// <param name="Value">The metric's value.</param>
/// <param name="Threshold">The rule's threshold.</param>
/// <param name="At">The instant of the scores that fired it.</param>
/// <param name="Details">The evidence: scores, categories, trend, groups, and the spike when there was one.</param>
/// <param name="Delivery">Its webhook delivery.</param>
public sealed record Alert(string Id, string RuleId, string Target, string Metric, string? Entity, string? Group, double Value, double Threshold, DateTimeOffset At, JsonElement Details, WebhookDelivery Delivery);

/// <summary>A page of alerts, newest first.</summary>
/// <param name="Alerts">The alerts.</param>
public sealed record AlertsPage(IReadOnlyList<Alert> Alerts);

/// <summary>One HTTP attempt of a webhook delivery.</summary>
/// <param name="Attempt">1, 2, 3, …</param>
/// <param name="At">When it started.</param>
/// <param name="Outcome">delivered or failed.</param>
/// <param name="StatusCode">The answer's status, if there was one.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="DurationMs">How long it took, in milliseconds.</param>
public sealed record DeliveryAttempt(int Attempt, DateTimeOffset At, string Outcome, int? StatusCode, string? Error, double DurationMs);

/// <summary>The delivery log of an alert.</summary>
/// <param name="Alert">The alert id.</param>
/// <param name="Delivery">Its delivery.</param>
/// <param name="Attempts">Every HTTP attempt, in order.</param>
public sealed record DeliveryLog(string Alert, WebhookDelivery Delivery, IReadOnlyList<DeliveryAttempt> Attempts);

/// <summary>A registered version of the scoring model.</summary>
/// <param name="Name">The version name, as modelVersion states it on every score.</param>
/// <param name="Identity">The name and a hash of every parameter.</param>
/// <param name="CreatedAt">When it was first registered.</param>
/// <param name="Current">Whether this server scores with it.</param>
/// <param name="Parameters">The model in its JSON form, every parameter written out.</param>
public sealed record ModelVersion(string Name, string Identity, DateTimeOffset CreatedAt, bool Current, JsonElement Parameters);

/// <summary>A replay of the event log under a registered model version, compared with the current model.</summary>
/// <param name="Version">A registered version name.</param>
/// <param name="At">The instant both models score the log as of; now by default.</param>
/// <param name="Limit">Movers per direction, 1–1000; 10 by default.</param>
public sealed record RescoreRequest(string Version, DateTimeOffset? At = null, int? Limit = null);

/// <summary>An entity whose score moves under another model version.</summary>
/// <param name="Entity">The entity id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Before">Its score under the current model.</param>
/// <param name="After">Its score under the replayed version.</param>
/// <param name="Delta"><paramref name="After"/> − <paramref name="Before"/>.</param>
public sealed record RescoreMover(string Entity, string Name, double Before, double After, double Delta);

/// <summary>The entities that rise and fall, largest move first.</summary>
/// <param name="Up">Rising.</param>
/// <param name="Down">Falling.</param>
public sealed record RescoreMovers(IReadOnlyList<RescoreMover> Up, IReadOnlyList<RescoreMover> Down);

/// <summary>What a rescore found.</summary>
/// <param name="From">The current model's version.</param>
/// <param name="To">The version replayed.</param>
/// <param name="At">The instant.</param>
/// <param name="Entities">How many entities were scored.</param>
/// <param name="Changed">How many of them score differently.</param>
/// <param name="Movers">The largest moves.</param>
public sealed record RescoreResponse(string From, string To, DateTimeOffset At, int Entities, int Changed, RescoreMovers Movers);

/// <summary>Entity kinds.</summary>
public static class EntityKinds
{
    /// <summary>A company.</summary>
    public const string Company = "company";

    /// <summary>A person.</summary>
    public const string Person = "person";

    /// <summary>An organization.</summary>
    public const string Organization = "organization";

    /// <summary>A product.</summary>
    public const string Product = "product";
}

/// <summary>Event types.</summary>
public static class EventTypes
{
    /// <summary>An outage.</summary>
    public const string Outage = "outage";

    /// <summary>A cyberattack.</summary>
    public const string Cyberattack = "cyberattack";

    /// <summary>A protest.</summary>
    public const string Protest = "protest";

    /// <summary>A change of sales.</summary>
    public const string SalesChange = "sales-change";

    /// <summary>A change of the share price.</summary>
    public const string StockChange = "stock-change";

    /// <summary>A change of net worth.</summary>
    public const string NetWorthChange = "net-worth-change";

    /// <summary>A product failure.</summary>
    public const string ProductFailure = "product-failure";

    /// <summary>A statement.</summary>
    public const string Statement = "statement";

    /// <summary>An incident, as spike detection writes it.</summary>
    public const string Incident = "incident";
}

/// <summary>Severities of product failures and statements.</summary>
public static class Severities
{
    /// <summary>Minor.</summary>
    public const string Minor = "minor";

    /// <summary>Major.</summary>
    public const string Major = "major";

    /// <summary>Critical.</summary>
    public const string Critical = "critical";
}

/// <summary>Score categories.</summary>
public static class Categories
{
    /// <summary>Operational.</summary>
    public const string Operational = "operational";

    /// <summary>Market.</summary>
    public const string Market = "market";

    /// <summary>Financial.</summary>
    public const string Financial = "financial";

    /// <summary>Reputational.</summary>
    public const string Reputational = "reputational";
}

/// <summary>How a group's members' scores combine.</summary>
public static class GroupMethods
{
    /// <summary>The highest weight × score.</summary>
    public const string Max = "max";

    /// <summary>The weighted sum of raw impact, saturated like an entity's score.</summary>
    public const string WeightedSum = "weighted-sum";

    /// <summary>100 × (1 − Π(1 − weight × score/100)).</summary>
    public const string NoisyOr = "noisy-or";
}

/// <summary>What an alert rule watches.</summary>
public static class AlertMetrics
{
    /// <summary>The score.</summary>
    public const string Score = "score";

    /// <summary>The operational category.</summary>
    public const string Operational = "operational";

    /// <summary>The market category.</summary>
    public const string Market = "market";

    /// <summary>The financial category.</summary>
    public const string Financial = "financial";

    /// <summary>The reputational category.</summary>
    public const string Reputational = "reputational";

    /// <summary>The 24-hour trend.</summary>
    public const string Trend24h = "trend24h";

    /// <summary>An outage spike's z-score.</summary>
    public const string Spike = "spike";
}

/// <summary>Reads and writes a <see cref="TimeSpan"/> as an ISO 8601 duration (PT10M, P1D), as the API does.</summary>
internal sealed class Iso8601DurationConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        System.Xml.XmlConvert.ToTimeSpan(reader.GetString() ?? throw new JsonException("a duration must be a string"));

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(System.Xml.XmlConvert.ToString(value));
}
