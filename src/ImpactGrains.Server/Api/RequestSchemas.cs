using System.ComponentModel;
using ImpactGrains.Alerting;

namespace ImpactGrains.Server.Api;

// Request bodies as the OpenAPI document describes them. The endpoints read bodies themselves (so every bad field gets
// its own message), so these types exist only to document the contract.

[Description("An entity to create or update.")]
public sealed record EntityRequest(
    [property: Description("Display name, 1–200 characters.")] string Name,
    [property: Description("company, person, organization or product.")] string Kind,
    [property: Description("Up to 32 tags of 1–64 characters.")] IReadOnlyList<string>? Tags = null);

[Description("An entity in a bulk registration: the fields of PUT /api/entities/{id}, with its id.")]
public sealed record BulkEntityRequest(
    [property: Description("The entity id: lower-case letters, digits and '-', 1–64 characters.")] string Id,
    [property: Description("Display name, 1–200 characters.")] string Name,
    [property: Description("company, person, organization or product.")] string Kind,
    [property: Description("Up to 32 tags of 1–64 characters.")] IReadOnlyList<string>? Tags);

[Description("A directed link: from's direct impact flows into to's inherited impact at weight.")]
public sealed record LinkRequest(
    string From,
    string To,
    [property: Description("In (0, 1].")] double Weight,
    [property: Description("A label, 1–64 characters, such as ceo.")] string Relation);

[Description("One event. POST /api/events takes one event, a JSON array of events, or NDJSON (one event per line, application/x-ndjson).")]
public sealed record EventRequest(
    [property: Description("The idempotency key, 1–200 characters.")] string Id,
    [property: Description("A registered entity id.")] string Entity,
    [property: Description("outage, cyberattack, protest, sales-change, stock-change, net-worth-change, product-failure, statement or incident.")] string Type,
    [property: Description("RFC 3339 with an offset; at most 5 minutes in the future.")] DateTimeOffset OccurredAt,
    [property: Description("ISO 3166-1 alpha-2 or GLOBAL (default).")] string? Region = null,
    [property: Description("0–1, default 1; a disputed claim weighs less.")] double? Confidence = null,
    [property: Description("Up to 500 characters.")] string? Source = null,
    [property: Description("The type's fields; see the examples and docs/api.md.")] Dictionary<string, object>? Data = null);

[Description("A group member: an entity id (weight 1) or an object with entity and weight.")]
public sealed record GroupMemberRequest(string Entity, [property: Description("In (0, 1], default 1.")] double Weight = 1);

[Description("A group (portfolio) to create or replace.")]
public sealed record GroupRequest(
    string Name,
    [property: Description("max, weighted-sum or noisy-or.")] string Method,
    [property: Description("1–1000 members, each once.")] IReadOnlyList<GroupMemberRequest> Members);

[Description("An alert rule.")]
public sealed record AlertRuleRequest(
    [property: Description("An entity id, group:<id>, or *.")] string Target,
    [property: Description("score, operational, market, financial, reputational, trend24h or spike.")] string Metric,
    double Threshold,
    [property: Description("ISO 8601 duration, such as PT10M.")] string CoolDown,
    [property: Description("An absolute http or https URL.")] string Webhook,
    [property: Description("8–200 characters; signs the webhook requests (HMAC-SHA256); never shown again.")] string Secret);

[Description("Replays the event log under a registered model version and compares it with the current one.")]
public sealed record RescoreRequest(
    string Version,
    [property: Description("RFC 3339, default now.")] DateTimeOffset? At = null,
    [property: Description("Movers per direction, default 10.")] int? Limit = null);

[Description("A scoring model version in its JSON form (docs/scoring.md). Every parameter left out keeps model v1's value; unknown fields are refused.")]
public sealed record ModelRequest(
    [property: Description("1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.")] string Version,
    [property: Description("Greater than 0.")] double? Kappa = null,
    [property: Description("Per event type: severity (≥ 0) and/or halfLife (a .NET time span from 00:01:00 to 36500.00:00:00).")] Dictionary<string, ModelTypeRequest>? Types = null,
    [property: Description("minor, major and/or critical, numbers ≥ 0.")] Dictionary<string, double>? SeverityMagnitudes = null,
    double? OutageBaselineFloor = null,
    [property: Description("≥ 0.")] double? OutageDurationWeight = null,
    [property: Description("0 to 1.")] double? ClaimedCyberattackFactor = null,
    double? ProtestParticipantScale = null,
    double? SalesDropScale = null,
    double? StockDropScale = null,
    double? NetWorthDropScale = null,
    double? NetWorthAbsoluteScaleUsd = null,
    double? IncidentZScale = null);

[Description("One event type's parameters.")]
public sealed record ModelTypeRequest(
    [property: Description("≥ 0.")] double? Severity = null,
    [property: Description("A .NET time span, such as 12:00:00 or 3.00:00:00.")] string? HalfLife = null);
