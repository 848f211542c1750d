namespace ImpactGrains.Alerting;

/// <summary>
/// A fired alert. <see cref="Target"/> is what it fired for (the cool-down key): the entity id, or
/// <c>group:&lt;group-id&gt;</c> for a group rule. <see cref="Details"/> is a JSON object with the evidence.
/// </summary>
public sealed record AlertRecord(string Id, string RuleId, string Target, string Metric, string? Entity, string? Group, double Value, double Threshold, DateTimeOffset At, string Details);

/// <summary>An alert with its delivery.</summary>
public sealed record StoredAlert(AlertRecord Alert, AlertDelivery Delivery);
