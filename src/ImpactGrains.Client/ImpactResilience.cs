using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace ImpactGrains.Client;

/// <summary>
/// The resilience pipeline of every request (Microsoft.Extensions.Http.Resilience): 429 and 503 answers are retried
/// after their <c>Retry-After</c> (or an exponential backoff with jitter when they give none), within
/// <see cref="ImpactClientOptions.MaxRetries"/> and <see cref="ImpactClientOptions.MaxRetryDuration"/>; each attempt is
/// bounded by <see cref="ImpactClientOptions.AttemptTimeout"/>. Nothing else is retried: a POST that failed otherwise
/// may or may not have been stored, and that is the caller's call (event ids make resending safe).
/// </summary>
internal static class ImpactResilience
{
    private static readonly ResiliencePropertyKey<long> FirstAnswer = new("ImpactGrains.Client.FirstAnswer");
    private static readonly ResiliencePropertyKey<TimeSpan> NextDelay = new("ImpactGrains.Client.NextDelay");

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ImpactClientOptions options)
    {
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                // Retry-After is read here, so that the same wait decides whether the retry fits the budget.
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome.Result, args.AttemptNumber, args.Context, options)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Context.Properties.TryGetValue(NextDelay, out var delay) ? delay : null),
                OnRetry = async args =>
                {
                    if (options.OnRetry is { } notify && args.Outcome.Result is { } response)
                    {
                        var error = await ImpactApiException.FromResponseAsync(response, args.Context.CancellationToken);
                        notify(new ImpactRetryNotice(args.AttemptNumber + 1, args.RetryDelay, response.RequestMessage?.Method ?? HttpMethod.Get, response.RequestMessage?.RequestUri, error));
                    }
                },
            });
        }

        pipeline.AddTimeout(options.AttemptTimeout);
    }

    private static bool ShouldRetry(HttpResponseMessage? response, int attempt, ResilienceContext context, ImpactClientOptions options)
    {
        if (response?.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
        {
            return false;
        }

        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!context.Properties.TryGetValue(FirstAnswer, out var first))
        {
            context.Properties.Set(FirstAnswer, first = now);
        }

        var delay = ImpactApiException.RetryAfterOf(response.Headers.RetryAfter) ?? Backoff(options, attempt);
        if (options.MaxRetryDuration != Timeout.InfiniteTimeSpan && System.Diagnostics.Stopwatch.GetElapsedTime(first, now) + delay > options.MaxRetryDuration)
        {
            return false;
        }

        context.Properties.Set(NextDelay, delay);
        return true;
    }

    /// <summary>The base delay doubled per retry, capped, with ±20 % jitter.</summary>
    internal static TimeSpan Backoff(ImpactClientOptions options, int attempt)
    {
        var seconds = Math.Min(options.MaxRetryDelay.TotalSeconds, options.RetryBaseDelay.TotalSeconds * Math.Pow(2, Math.Min(attempt, 20)));
        return TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }
}
