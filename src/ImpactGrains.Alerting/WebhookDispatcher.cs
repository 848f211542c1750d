using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Alerting;

/// <summary>
/// On every silo: claims due webhook deliveries from the alert outbox and POSTs each alert to its rule's webhook,
/// signed with the rule's secret (<see cref="WebhookSignature"/>). Within one dispatch the HTTP client retries with
/// exponential backoff and jitter under a per-attempt and a total timeout (Microsoft.Extensions.Http.Resilience, see
/// <see cref="AlertServices"/>); every attempt is written to the delivery log. If the whole dispatch fails the delivery
/// stays pending, due again after <see cref="AlertOptions.RedeliveryDelay"/> doubling up to
/// <see cref="AlertOptions.MaxRedeliveryDelay"/>, until <see cref="AlertOptions.MaxAttempts"/> attempts have been made.
/// A delivery claimed by a process that dies is claimed again once its lease runs out: delivery is at least once,
/// and receivers deduplicate on <c>X-ImpactGrains-Delivery</c>.
/// </summary>
public sealed partial class WebhookDispatcher(
    IAlertStore store,
    IHttpClientFactory clients,
    AlertOutboxSignal outbox,
    IOptions<AlertOptions> options,
    TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await DispatchDueAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogPassFailed(ex);
            }

            if (claimed == 0)
            {
                try
                {
                    await outbox.WaitAsync(options.Value.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One pass: claims up to <see cref="AlertOptions.BatchSize"/> due deliveries and settles each. Returns how many it claimed.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        var claimed = await store.ClaimDueDeliveriesAsync(options.Value.BatchSize, options.Value.Lease, cancellationToken);
        await Task.WhenAll(claimed.Select(c => DeliverAsync(c, cancellationToken)));
        return claimed.Count;
    }

    private async Task DeliverAsync(ClaimedDelivery claimed, CancellationToken cancellationToken)
    {
        var delivery = claimed.Delivery;
        if (claimed.Rule is not { } rule)
        {
            await store.MarkFailedAsync(delivery.Id, claimed.Lease, DeliveryStatus.Cancelled, "the rule was deleted", CancellationToken.None);
            Settled("cancelled");
            return;
        }

        var log = new DeliveryAttemptLog(store, delivery.Id, delivery.Attempts, logger);
        var sentAt = time.GetUtcNow();
        var body = WebhookPayload.Serialize(delivery.Id, sentAt, claimed.Alert);
        using var request = new HttpRequestMessage(HttpMethod.Post, rule.Webhook) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.Id);
        request.Headers.Add(WebhookSignature.TimestampHeader, sentAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(rule.Secret, body));
        request.Options.Set(DeliveryAttemptHandler.LogKey, log);

        string error;
        try
        {
            // Only the status matters: the answer's body is never read, so a receiver cannot make a dispatch buffer or wait on it.
            using var response = await clients.CreateClient(AlertServices.WebhookClient).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                await store.MarkDeliveredAsync(delivery.Id, CancellationToken.None);
                LogDelivered(delivery.Id, claimed.Alert.Id, log.Attempts);
                Settled("delivered");
                return;
            }

            error = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: hand the delivery back at once rather than waiting for the lease to run out.
            await TryAsync(() => store.ScheduleRetryAsync(delivery.Id, claimed.Lease, TimeSpan.Zero, "interrupted by shutdown", CancellationToken.None));
            return;
        }
        catch (Exception ex)
        {
            error = DeliveryAttemptHandler.Describe(ex);
        }

        var o = options.Value;
        if (log.Attempts >= o.MaxAttempts)
        {
            await store.MarkFailedAsync(delivery.Id, claimed.Lease, DeliveryStatus.Failed, $"gave up after {log.Attempts} attempts; last: {error}", CancellationToken.None);
            LogGaveUp(delivery.Id, claimed.Alert.Id, log.Attempts, error);
            Settled("failed");
            return;
        }

        var delay = RedeliveryDelay(o, log.Attempts);
        await store.ScheduleRetryAsync(delivery.Id, claimed.Lease, delay, error, CancellationToken.None);
        LogRescheduled(delivery.Id, claimed.Alert.Id, log.Attempts, error, delay);
    }

    /// <summary>
    /// <see cref="AlertOptions.RedeliveryDelay"/> doubled for each failed dispatch so far (estimated from the attempts,
    /// which each dispatch makes up to <see cref="AlertOptions.Retries"/> + 1 of), capped, with ±20 % jitter.
    /// </summary>
    public static TimeSpan RedeliveryDelay(AlertOptions options, int attempts)
    {
        var dispatches = Math.Max(1, (attempts + options.Retries) / (options.Retries + 1));
        var seconds = options.RedeliveryDelay.TotalSeconds * Math.Pow(2, Math.Min(dispatches - 1, 30));
        seconds = Math.Min(seconds, options.MaxRedeliveryDelay.TotalSeconds) * (0.8 + 0.4 * Random.Shared.NextDouble());
        return TimeSpan.FromSeconds(seconds);
    }

    private static void Settled(string status) =>
        WebhookMetrics.Deliveries.Add(1, new KeyValuePair<string, object?>("status", status));

    private async Task TryAsync(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception ex)
        {
            LogPassFailed(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivered {DeliveryId} (alert {AlertId}) after {Attempts} attempts in all")]
    private partial void LogDelivered(string deliveryId, string alertId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} (alert {AlertId}) failed after {Attempts} attempts in all ({Error}); next try in {Delay}")]
    private partial void LogRescheduled(string deliveryId, string alertId, int attempts, string error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery {DeliveryId} (alert {AlertId}) given up after {Attempts} attempts ({Error})")]
    private partial void LogGaveUp(string deliveryId, string alertId, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A webhook dispatch pass failed; it will try again")]
    private partial void LogPassFailed(Exception exception);
}

/// <summary>
/// The signature of a webhook request: <c>X-ImpactGrains-Signature: sha256=&lt;hex&gt;</c>, the lower-case hex
/// HMAC-SHA256 of the exact body bytes keyed with the rule's secret (UTF-8). The delivery id and the timestamp headers
/// repeat the body's <c>delivery</c> and <c>timestamp</c> fields, so they are covered by the signature.
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "X-ImpactGrains-Signature";
    public const string DeliveryHeader = "X-ImpactGrains-Delivery";
    public const string TimestampHeader = "X-ImpactGrains-Timestamp";

    public static string Sign(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>What a receiver does: compares in constant time.</summary>
    public static bool Verify(string secret, ReadOnlySpan<byte> body, string? header) =>
        header is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, body)), Encoding.ASCII.GetBytes(header));
}

/// <summary>The webhook body: <c>{"delivery", "timestamp" (Unix seconds), "alert": {…}}</c>.</summary>
public static class WebhookPayload
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static byte[] Serialize(string deliveryId, DateTimeOffset sentAt, AlertRecord alert) =>
        JsonSerializer.SerializeToUtf8Bytes(new Envelope(deliveryId, sentAt.ToUnixTimeSeconds(), AlertJson.Of(alert)), Json);

    private sealed record Envelope(string Delivery, long Timestamp, AlertJson Alert);
}

/// <summary>An alert as the API and the webhooks show it; <see cref="Details"/> is the evidence as a JSON object.</summary>
public sealed record AlertJson(
    string Id, string RuleId, string Target, string Metric, string? Entity, string? Group, double Value, double Threshold, DateTimeOffset At, JsonElement Details)
{
    public static AlertJson Of(AlertRecord alert) => new(
        alert.Id, alert.RuleId, alert.Target, alert.Metric, alert.Entity, alert.Group, alert.Value, alert.Threshold, alert.At,
        ParseDetails(alert.Details));

    private static JsonElement ParseDetails(string details)
    {
        try
        {
            using var document = JsonDocument.Parse(details);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(details);
        }
    }
}

/// <summary>The attempts of one dispatch, written to the delivery log as they happen.</summary>
internal sealed class DeliveryAttemptLog(IAlertStore store, string deliveryId, int attemptsBefore, ILogger logger)
{
    private int attempts = attemptsBefore;

    /// <summary>Attempts made for the delivery so far, this dispatch's included.</summary>
    public int Attempts => Volatile.Read(ref attempts);

    public async Task RecordAsync(DateTimeOffset at, bool succeeded, int? statusCode, string? error, TimeSpan duration)
    {
        WebhookMetrics.Attempts.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "delivered" : "failed"));
        WebhookMetrics.AttemptDuration.Record(duration.TotalSeconds);
        try
        {
            var number = await store.RecordAttemptAsync(deliveryId, at, succeeded, statusCode, error, duration, CancellationToken.None);
            Volatile.Write(ref attempts, number);
        }
        catch (Exception ex)
        {
            // The attempt happened whether or not the log could take it; count it anyway.
            Interlocked.Increment(ref attempts);
            logger.LogWarning(ex, "Could not write attempt of delivery {DeliveryId} to the delivery log", deliveryId);
        }
    }
}

/// <summary>
/// Sits inside the resilience handler, so it sees every attempt, retries included, and writes each to the delivery log.
/// </summary>
internal sealed class DeliveryAttemptHandler : DelegatingHandler
{
    public static readonly HttpRequestOptionsKey<DeliveryAttemptLog> LogKey = new("ImpactGrains.DeliveryAttemptLog");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(LogKey, out var log))
        {
            return await base.SendAsync(request, cancellationToken);
        }

        var at = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch (Exception ex)
        {
            await log.RecordAsync(at, false, null, Describe(ex), Stopwatch.GetElapsedTime(started));
            throw;
        }

        var ok = response.IsSuccessStatusCode;
        await log.RecordAsync(at, ok, (int)response.StatusCode, ok ? null : $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd(), Stopwatch.GetElapsedTime(started));
        return response;
    }

    public static string Describe(Exception exception) => exception switch
    {
        OperationCanceledException or Polly.Timeout.TimeoutRejectedException => "timed out",
        HttpRequestException { InnerException: { } inner } http when !http.Message.Contains(inner.Message, StringComparison.Ordinal) =>
            $"{http.Message} ({inner.Message})",
        _ => exception.Message,
    };
}
