using System.Text.Json;
using System.Xml;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Alerting;
using ImpactGrains.Server.Hosting;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api;

/// <summary>Alert rules and the alerts they fired, with their webhook deliveries.</summary>
public static class AlertsEndpoints
{
    private const int DefaultAlertsLimit = 50;
    private const string GroupPrefix = RequestRules.GroupTargetPrefix;

    public static RouteGroupBuilder MapAlerts(this RouteGroupBuilder api)
    {
        api.MapPost("/alert-rules", CreateRule)
            .Accepts<AlertRuleRequest>("application/json")
            .Operation("createAlertRule", "Alerts", "Create an alert rule", "201 with Location; the id is generated and the secret is never shown again.",
                StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/alert-rules", ListRules)
            .Operation("listAlertRules", "Alerts", "List alert rules, a page at a time",
                "Oldest first, without secrets, at most limit (default 1000) per page; a Link header (rel=next) names the next page (after is an opaque cursor).",
                StatusCodes.Status400BadRequest);
        api.MapGet("/alert-rules/{id}", GetRule)
            .Operation("getAlertRule", "Alerts", "Get an alert rule", "Without its secret.", StatusCodes.Status404NotFound);
        api.MapDelete("/alert-rules/{id}", DeleteRule)
            .Operation("deleteAlertRule", "Alerts", "Delete an alert rule", "Its alerts stay listed; those not yet delivered are cancelled.", StatusCodes.Status404NotFound);
        api.MapGet("/alerts", ListAlerts)
            .Operation("listAlerts", "Alerts", "List alerts with their deliveries", "Newest first; page with before.", StatusCodes.Status400BadRequest);
        api.MapGet("/alerts/{id}/deliveries", Deliveries)
            .Operation("getAlertDeliveries", "Alerts", "Get an alert's delivery log", "Every HTTP attempt of its webhook delivery, in order.", StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<Results<Created<AlertRuleResponse>, ProblemHttpResult>> CreateRule(
        HttpRequest request, IAlertStore alerts, IEntityCatalog catalog, AlertEvaluator evaluator, WebhookAddressPolicy webhooks, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (document, problem) = await RequestJson.ReadObjectAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        AlertRule rule;
        using (document)
        {
            var body = document!.RootElement;
            var target = RequestJson.RequiredString(body, "target", RequestRules.MaxTargetLength, out _);
            if (target is null)
            {
                return Problems.BadRequest("target: required string: an entity id, group:<group-id> or *");
            }

            if (target != RequestRules.AnyTarget)
            {
                var id = target.StartsWith(GroupPrefix, StringComparison.Ordinal) ? target[GroupPrefix.Length..] : target;
                if (!EntityIds.IsValid(id))
                {
                    return Problems.BadRequest(target.StartsWith(GroupPrefix, StringComparison.Ordinal)
                        ? $"target: '{id}' is not a valid group id (lower-case letters, digits and '-', 1–64 characters, not starting with '-')"
                        : $"target: must be an entity id, group:<group-id> or *; {EntityIds.Describe(target)}");
                }
            }

            if (!body.TryGetProperty("metric", out var metricElement) || metricElement.ValueKind != JsonValueKind.String ||
                metricElement.GetString() is not { } metric || !AlertMetrics.IsValid(metric))
            {
                return Problems.BadRequest($"metric: required, one of {string.Join(", ", AlertMetrics.All)}");
            }

            var (min, max) = ThresholdRange(metric);
            if (!body.TryGetProperty("threshold", out var thresholdElement) || thresholdElement.ValueKind != JsonValueKind.Number ||
                !thresholdElement.TryGetDouble(out var threshold) || !(threshold >= min && threshold <= max))
            {
                return Problems.BadRequest($"threshold: required number from {min} to {max} for the metric {metric}");
            }

            if (!body.TryGetProperty("coolDown", out var coolDownElement) || coolDownElement.ValueKind != JsonValueKind.String ||
                string.IsNullOrEmpty(coolDownElement.GetString()))
            {
                return Problems.BadRequest("coolDown: required ISO 8601 duration of at least one second, such as PT10M or P1D");
            }

            if (!QueryValues.TryDuration(coolDownElement.GetString(), "coolDown", TimeSpan.Zero, out var coolDown, out var error))
            {
                return Problems.BadRequest(error!);
            }

            if (!body.TryGetProperty("webhook", out var webhookElement) || webhookElement.ValueKind != JsonValueKind.String ||
                webhookElement.GetString() is not { Length: > 0 and <= RequestRules.MaxWebhookLength } webhookText ||
                !Uri.TryCreate(webhookText, UriKind.Absolute, out var webhook) ||
                webhook.Scheme is not ("http" or "https") || string.IsNullOrEmpty(webhook.Host))
            {
                return Problems.BadRequest($"webhook: required absolute http or https URL of at most {RequestRules.MaxWebhookLength} characters");
            }

            // SSRF: no internal address unless allowed; checked again, on the address connected to, at every delivery.
            if (await webhooks.CheckAsync(webhook, cancellationToken) is { } refused)
            {
                return Problems.BadRequest($"webhook: {refused}");
            }

            if (!body.TryGetProperty("secret", out var secretElement) || secretElement.ValueKind != JsonValueKind.String ||
                secretElement.GetString() is not { Length: >= RequestRules.MinSecretLength and <= RequestRules.MaxSecretLength } secret || secret.Any(char.IsControl))
            {
                return Problems.BadRequest($"secret: required string of {RequestRules.MinSecretLength}–{RequestRules.MaxSecretLength} characters without control characters");
            }

            rule = new AlertRule("", target, metric, threshold, coolDown, webhook, secret, time.GetUtcNow());
        }

        // There is no group store yet: a group target is checked for its syntax only.
        if (rule.Target != RequestRules.AnyTarget && !rule.Target.StartsWith(GroupPrefix, StringComparison.Ordinal) &&
            !await catalog.ExistsAsync(rule.Target, cancellationToken))
        {
            return Problems.UnknownEntity(rule.Target);
        }

        var stored = await alerts.CreateRuleAsync(rule, cancellationToken)
            ?? throw new InvalidOperationException("a generated rule id was taken");
        evaluator.RulesChanged();
        return TypedResults.Created($"/api/alert-rules/{stored.Id}", AlertRuleResponse.Of(stored));
    }

    /// <summary>score and the categories lie in [0, 100]; trend24h, a difference of scores, in [−100, 100]; spike is a z-score.</summary>
    internal static (double Min, double Max) ThresholdRange(string metric) => metric switch
    {
        AlertMetrics.Trend24h => (-100, 100),
        AlertMetrics.Spike => (0, 1000),
        _ => (0, 100),
    };

    private static async Task<Results<Ok<List<AlertRuleResponse>>, ProblemHttpResult>> ListRules(
        string? limit, string? after, HttpContext context, IAlertStore alerts, IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        if (!QueryValues.TryLimit(limit, "limit", Paging.DefaultPageSize, options.Value.Query.MaxLimit, out var count, out var error))
        {
            return Problems.BadRequest(error!);
        }

        RulePosition? position = null;
        if (after is not null)
        {
            // The cursor is the last rule's creation (UTC ticks) and id, so that deleting that rule does not lose the place.
            var dot = after.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || !long.TryParse(after.AsSpan(0, dot), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks))
            {
                return Problems.BadRequest("after: not a cursor of this list; take it from the Link header of the previous page");
            }

            position = new RulePosition(ticks, after[(dot + 1)..]);
        }

        var rules = await alerts.ListRulesAsync(position, count, cancellationToken);
        if (rules.Count == count)
        {
            var last = rules[^1];
            Paging.LinkNext(context, "/api/alert-rules", count, $"{last.CreatedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{last.Id}");
        }

        return TypedResults.Ok(rules.Select(AlertRuleResponse.Of).ToList());
    }

    private static async Task<Results<Ok<AlertRuleResponse>, ProblemHttpResult>> GetRule(string id, IAlertStore alerts, CancellationToken cancellationToken) =>
        await alerts.FindRuleAsync(id, cancellationToken) is { } rule
            ? TypedResults.Ok(AlertRuleResponse.Of(rule))
            : NoSuchRule(id);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteRule(
        string id, IAlertStore alerts, AlertEvaluator evaluator, CancellationToken cancellationToken)
    {
        if (!await alerts.DeleteRuleAsync(id, cancellationToken))
        {
            return NoSuchRule(id);
        }

        evaluator.RulesChanged();
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<AlertsPage>, ProblemHttpResult>> ListAlerts(
        string? limit, string? before, IAlertStore alerts, IOptions<ImpactOptions> options, CancellationToken cancellationToken)
    {
        if (!QueryValues.TryLimit(limit, "limit", DefaultAlertsLimit, options.Value.Query.MaxLimit, out var count, out var error) ||
            !QueryValues.TryInstant(before, "before", DateTimeOffset.MaxValue, out var cursor, out error))
        {
            return Problems.BadRequest(error!);
        }

        var page = await alerts.ListAlertsAsync(count, string.IsNullOrEmpty(before) ? null : cursor, cancellationToken);
        return TypedResults.Ok(new AlertsPage(page.Select(AlertResponse.Of).ToList()));
    }

    private static async Task<Results<Ok<DeliveryLogResponse>, ProblemHttpResult>> Deliveries(string id, IAlertStore alerts, CancellationToken cancellationToken)
    {
        if (await alerts.FindAlertAsync(id, cancellationToken) is not { } alert)
        {
            return Problems.NotFound($"there is no alert '{Shorten(id)}'");
        }

        var attempts = await alerts.ListAttemptsAsync(alert.Delivery.Id, cancellationToken);
        return TypedResults.Ok(new DeliveryLogResponse(alert.Alert.Id, DeliveryResponse.Of(alert.Delivery), attempts.Select(AttemptResponse.Of).ToList()));
    }

    private static ProblemHttpResult NoSuchRule(string id) => Problems.NotFound($"there is no alert rule '{Shorten(id)}'");

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}

/// <summary>A rule as the API shows it: never its secret. <see cref="CoolDown"/> is an ISO 8601 duration.</summary>
public sealed record AlertRuleResponse(string Id, string Target, string Metric, double Threshold, string CoolDown, string Webhook, DateTimeOffset CreatedAt)
{
    public static AlertRuleResponse Of(AlertRule rule) =>
        new(rule.Id, rule.Target, rule.Metric, rule.Threshold, XmlConvert.ToString(rule.CoolDown), rule.Webhook.AbsoluteUri, rule.CreatedAt);
}

public sealed record DeliveryResponse(string Id, string Status, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? CompletedAt, string? LastError)
{
    public static DeliveryResponse Of(AlertDelivery delivery) => new(
        delivery.Id, AlertStoreText.StatusName(delivery.Status), delivery.Attempts, delivery.CreatedAt, delivery.NextAttemptAt, delivery.CompletedAt, delivery.LastError);
}

public sealed record AlertResponse(
    string Id, string RuleId, string Target, string Metric, string? Entity, string? Group, double Value, double Threshold, DateTimeOffset At,
    JsonElement Details, DeliveryResponse Delivery)
{
    public static AlertResponse Of(StoredAlert stored)
    {
        var alert = AlertJson.Of(stored.Alert);
        return new AlertResponse(alert.Id, alert.RuleId, alert.Target, alert.Metric, alert.Entity, alert.Group, alert.Value, alert.Threshold, alert.At,
            alert.Details, DeliveryResponse.Of(stored.Delivery));
    }
}

public sealed record AlertsPage(IReadOnlyList<AlertResponse> Alerts);

/// <summary>One attempt of the delivery log; <see cref="Outcome"/> is <c>delivered</c> or <c>failed</c>.</summary>
public sealed record AttemptResponse(int Attempt, DateTimeOffset At, string Outcome, int? StatusCode, string? Error, double DurationMs)
{
    public static AttemptResponse Of(DeliveryAttempt attempt) =>
        new(attempt.Number, attempt.At, attempt.Succeeded ? "delivered" : "failed", attempt.StatusCode, attempt.Error, attempt.Duration.TotalMilliseconds);
}

public sealed record DeliveryLogResponse(string Alert, DeliveryResponse Delivery, IReadOnlyList<AttemptResponse> Attempts);
