using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ImpactGrains.Cli.Ingest;

/// <summary>
/// Posts batches to <c>POST /api/events</c> as NDJSON. Retries 429 and 503 after their <c>Retry-After</c> (or a
/// backoff) and network failures and timeouts with exponential backoff, for at most <c>retryFor</c> per request; splits
/// a batch the server finds too large (413) in halves, and keeps the smaller size for the batches after it.
/// </summary>
internal sealed class EventSender(ApiClient api, TimeSpan retryFor, Action<string> onRetry)
{
    private int sizeLimit = int.MaxValue;

    public async Task<BatchOutcome> SendAsync(Batch batch, CancellationToken cancellationToken)
    {
        var outcome = new BatchOutcome();
        var limit = Volatile.Read(ref sizeLimit);
        for (var from = 0; from < batch.Count; from += limit)
        {
            await SendRangeAsync(batch, from, Math.Min(batch.Count, from + limit), outcome, cancellationToken);
        }

        return outcome;
    }

    private async Task SendRangeAsync(Batch batch, int from, int to, BatchOutcome outcome, CancellationToken cancellationToken)
    {
        using var response = await PostAsync(batch.Body(from, to), cancellationToken);
        if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge)
        {
            if (to - from == 1)
            {
                var error = await ApiClient.ErrorAsync(response, cancellationToken);
                var (index, line) = batch.Event(from);
                outcome.Rejected.Add(new Rejection(index, line, null, $"the event is larger than the server takes in one request ({error.Message})"));
                return;
            }

            var middle = from + (to - from) / 2;
            InterlockedMin(ref sizeLimit, middle - from);
            await SendRangeAsync(batch, from, middle, outcome, cancellationToken);
            await SendRangeAsync(batch, middle, to, outcome, cancellationToken);
            return;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw await ApiClient.ErrorAsync(response, cancellationToken);
        }

        var text = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            outcome.Accepted += root.GetProperty("accepted").GetInt64();
            outcome.Duplicates += root.GetProperty("duplicates").GetInt64();
            foreach (var rejected in root.GetProperty("rejected").EnumerateArray())
            {
                var position = rejected.GetProperty("index").GetInt32();
                var (index, line) = position >= 0 && position < to - from ? batch.Event(from + position) : (-1, -1);
                var id = rejected.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
                var reason = rejected.TryGetProperty("error", out var errorElement) ? errorElement.GetString() : null;
                outcome.Rejected.Add(new Rejection(index, line, id, reason ?? "rejected"));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CliFailure($"POST /api/events: the server's answer is not the expected {{accepted, duplicates, rejected}} ({e.Message})");
        }
    }

    private async Task<HttpResponseMessage> PostAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            TimeSpan delay;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "api/events") { Content = new ReadOnlyMemoryContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                var response = await api.Http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
                if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
                {
                    return response;
                }

                using (response)
                {
                    delay = ApiClient.RetryAfter(response) ?? Backoff(attempt);
                    problem = (await ApiClient.ErrorAsync(response, cancellationToken)).Message;
                }
            }
            catch (HttpRequestException e)
            {
                problem = $"cannot reach {api.BaseAddress.GetLeftPart(UriPartial.Authority)}: {ApiClient.Describe(e)}";
                delay = Backoff(attempt);
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                problem = $"no answer within {api.Http.Timeout.TotalSeconds:0} s";
                delay = Backoff(attempt);
            }

            var elapsed = DateTime.UtcNow - started;
            if (elapsed + delay > retryFor)
            {
                throw new CliFailure($"{problem}; gave up after {attempt} attempt{(attempt == 1 ? "" : "s")} in {Format.Duration(elapsed)}");
            }

            onRetry($"{problem}; retry {attempt} in {Format.Duration(delay)}");
            await Task.Delay(delay, cancellationToken);
        }
    }

    /// <summary>0.5 s, 1 s, 2 s, … up to 30 s, with ±20 % jitter.</summary>
    internal static TimeSpan Backoff(int attempt)
    {
        var seconds = Math.Min(30, 0.5 * Math.Pow(2, Math.Min(attempt - 1, 10)));
        return TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }

    private static void InterlockedMin(ref int target, int value)
    {
        int current;
        while (value < (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
