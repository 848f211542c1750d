namespace ImpactGrains.Alerting;

/// <summary>The webhook delivery of one alert (one per alert): an outbox row written with the alert.</summary>
public sealed record AlertDelivery(
    string Id,
    string AlertId,
    string RuleId,
    DeliveryStatus Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? CompletedAt,
    string? LastError);

/// <summary>Where a delivery stands.</summary>
public enum DeliveryStatus
{
    /// <summary>Not delivered yet; the dispatcher will try (again) once it is due.</summary>
    Pending,

    /// <summary>The webhook answered 2xx.</summary>
    Delivered,

    /// <summary>Given up after the configured number of attempts.</summary>
    Failed,

    /// <summary>Its rule was deleted before it was delivered.</summary>
    Cancelled,
}

/// <summary>One HTTP attempt of a delivery, as written to the delivery log. <see cref="Number"/> counts from 1 per delivery.</summary>
public sealed record DeliveryAttempt(int Number, DateTimeOffset At, bool Succeeded, int? StatusCode, string? Error, TimeSpan Duration);

/// <summary>
/// A delivery claimed by one dispatcher until its lease runs out. <see cref="Rule"/> is null when the rule is gone.
/// <see cref="Lease"/> identifies this claim: rescheduling or failing the delivery needs it, so a dispatcher whose lease
/// expired cannot overwrite the outcome of the one that claimed the delivery after it.
/// </summary>
public sealed record ClaimedDelivery(AlertDelivery Delivery, AlertRecord Alert, AlertRule? Rule, string Lease);

/// <summary>How delivery statuses are spelt in the database and on the wire.</summary>
public static class AlertStoreText
{
    public static string StatusName(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Pending => "pending",
        DeliveryStatus.Delivered => "delivered",
        DeliveryStatus.Failed => "failed",
        DeliveryStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static DeliveryStatus ParseStatus(string name) => name switch
    {
        "pending" => DeliveryStatus.Pending,
        "delivered" => DeliveryStatus.Delivered,
        "failed" => DeliveryStatus.Failed,
        "cancelled" => DeliveryStatus.Cancelled,
        _ => throw new InvalidOperationException($"unknown delivery status '{name}'"),
    };
}
