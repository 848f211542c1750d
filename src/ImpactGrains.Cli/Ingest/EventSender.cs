using System.Diagnostics;
using System.Net;
using ImpactGrains.Client;

namespace ImpactGrains.Cli.Ingest;

/// <summary>
/// Posts batches to <c>POST /api/events</c> as NDJSON through the client, whose pipeline retries 429 and 503 after
/// their <c>Retry-After</c>. Network failures and timeouts, which the client does not retry, are retried here with
/// exponential backoff: event ids are idempotent, so a batch sent twice is stored once. Both stop after
/// <c>retryFor</c> per request. A batch the server finds too large (413) is split in halves, and the batches after
/// it keep the smaller size.
/// </summary>
internal sealed class EventSender(ImpactClient api, TimeSpan retryFor, Action<string> onRetry)
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
        IngestionResult result;
        try
        {
            result = await PostAsync(batch.Body(from, to), cancellationToken);
        }
        catch (ImpactApiException e) when (e.Status == (int)HttpStatusCode.RequestEntityTooLarge)
        {
            if (to - from == 1)
            {
                var (index, line) = batch.Event(from);
                outcome.Rejected.Add(new Rejection(index, line, null, $"the event is larger than the server takes in one request ({e.Message})"));
                return;
            }

            var middle = from + (to - from) / 2;
            InterlockedMin(ref sizeLimit, middle - from);
            await SendRangeAsync(batch, from, middle, outcome, cancellationToken);
            await SendRangeAsync(batch, middle, to, outcome, cancellationToken);
            return;
        }

        outcome.Accepted += result.Accepted;
        outcome.Duplicates += result.Duplicates;
        foreach (var rejected in result.Rejected)
        {
            var (index, line) = rejected.Index >= 0 && rejected.Index < to - from ? batch.Event(from + rejected.Index) : (-1, -1);
            outcome.Rejected.Add(new Rejection(index, line, rejected.Id, rejected.Error));
        }
    }

    private async Task<IngestionResult> PostAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            try
            {
                return await api.PostNdjsonAsync(body, cancellationToken);
            }
            catch (ImpactApiException e) when (e.Status is (int)HttpStatusCode.TooManyRequests or (int)HttpStatusCode.ServiceUnavailable)
            {
                // The client's pipeline retried it for as long as --retry-for allows.
                throw new CliFailure($"{e.Message}; gave up after {Format.Duration(Stopwatch.GetElapsedTime(started))} of retries");
            }
            catch (ImpactApiException e) when (e.Status != (int)HttpStatusCode.RequestEntityTooLarge)
            {
                throw new CliFailure(e.Message);
            }
            catch (HttpRequestException e)
            {
                problem = $"cannot reach {api.BaseAddress.GetLeftPart(UriPartial.Authority)}: {CommandContext.Describe(e)}";
            }
            catch (TimeoutException e)
            {
                problem = e.Message;
            }

            var delay = Backoff(attempt);
            var elapsed = Stopwatch.GetElapsedTime(started);
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
