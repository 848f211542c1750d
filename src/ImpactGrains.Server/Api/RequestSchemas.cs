using System.ComponentModel;

namespace ImpactGrains.Server.Api;

// Request bodies as the OpenAPI document describes them. The endpoints read bodies themselves (so every bad field gets
// its own message); these types give the document its shapes, and Hosting/RequestSchemaConstraints adds the limits the
// endpoints enforce, from the same constants (RequestRules and the validators'), so none is written here in words.

[Description("An entity to create or update. Unknown fields are ignored.")]
public sealed record EntityRequest(
    [property: Description("Display name, without control characters.")] string Name,
    string Kind,
    [property: Description("Tags without control characters; repeats are dropped.")] IReadOnlyList<string>? Tags = null);

[Description("An entity in a bulk registration: the fields of PUT /api/entities/{id}, with its id.")]
public sealed record BulkEntityRequest(
    [property: Description("The entity id.")] string Id,
    [property: Description("Display name, without control characters.")] string Name,
    string Kind,
    [property: Description("Tags without control characters; repeats are dropped.")] IReadOnlyList<string>? Tags = null);

[Description("A directed link: from's direct impact flows into to's inherited impact at weight. from and to are registered entities, different from each other.")]
public sealed record LinkRequest(
    string From,
    string To,
    double Weight,
    [property: Description("A label, such as ceo.")] string Relation);

[Description("One event. POST /api/events takes one event, a JSON array of events, or NDJSON (one event per line, application/x-ndjson). Unknown fields are ignored.")]
public sealed record EventRequest(
    [property: Description("The idempotency key.")] string Id,
    [property: Description("A registered entity id.")] string Entity,
    string Type,
    [property: Description("RFC 3339 with an offset; not before 1900 and at most 5 minutes in the future.")] DateTimeOffset OccurredAt,
    [property: Description("ISO 3166-1 alpha-2 or GLOBAL (default), in any case; stored in upper case.")] string? Region = null,
    [property: Description("Default 1; a disputed claim weighs less.")] double? Confidence = null,
    [property: Description("Where it was reported.")] string? Source = null,
    [property: Description("The type's fields; see the examples and docs/api.md. May be left out where the type needs none.")] Dictionary<string, object>? Data = null);

[Description("A group member object: an entity and its weight.")]
public sealed record GroupMemberRequest(string Entity, [property: Description("Default 1.")] double Weight = 1);

[Description("A group (portfolio) to create or replace. Unknown fields are ignored.")]
public sealed record GroupRequest(
    [property: Description("Display name, without control characters.")] string Name,
    string Method,
    [property: Description("Registered entities, each once: an entity id (weight 1) or an object with entity and weight.")] IReadOnlyList<GroupMemberRequest> Members);

[Description("An alert rule. Unknown fields are ignored.")]
public sealed record AlertRuleRequest(
    [property: Description("An entity id, group:<id>, or *.")] string Target,
    string Metric,
    double Threshold,
    [property: Description("ISO 8601 duration of at least one second, such as PT10M.")] string CoolDown,
    [property: Description("An absolute http or https URL, at an address the webhook policy allows.")] string Webhook,
    [property: Description("Signs the webhook requests (HMAC-SHA256); never shown again.")] string Secret);

[Description("Replays the event log under a registered model version and compares it with the current one. Unknown fields are ignored.")]
public sealed record RescoreRequest(
    [property: Description("A registered model version.")] string Version,
    [property: Description("RFC 3339, default now.")] DateTimeOffset? At = null,
    [property: Description("Movers per direction, default 10.")] int? Limit = null);

[Description("A scoring model version in its JSON form (docs/scoring.md). Every parameter left out keeps model v1's value; unknown fields are refused.")]
public sealed record ModelRequest(
    string Version,
    double? Kappa = null,
    [property: Description("Per event type: severity and/or halfLife.")] Dictionary<string, ModelTypeRequest>? Types = null,
    Dictionary<string, double>? SeverityMagnitudes = null,
    double? OutageBaselineFloor = null,
    double? OutageDurationWeight = null,
    double? ClaimedCyberattackFactor = null,
    double? ProtestParticipantScale = null,
    double? SalesDropScale = null,
    double? StockDropScale = null,
    double? NetWorthDropScale = null,
    double? NetWorthAbsoluteScaleUsd = null,
    double? IncidentZScale = null);

[Description("One event type's parameters; unknown fields are refused.")]
public sealed record ModelTypeRequest(
    double? Severity = null,
    [property: Description("A .NET time span from 00:01:00 to 36500.00:00:00, such as 12:00:00 or 3.00:00:00.")] string? HalfLife = null);
