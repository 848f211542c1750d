namespace ImpactGrains.Client;

/// <summary>Where the API is, the key to send, and how requests are timed and retried.</summary>
public sealed class ImpactClientOptions
{
    /// <summary>The server's base address, such as http://127.0.0.1:5080 (the API is under <c>/api</c> below it).</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The API key, sent as <c>X-Api-Key</c>; null for a server running open.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one attempt may take until the answer's headers arrive (100 s). A stream's events are not bound by it.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// Retries of a 429 (too many requests) or 503 (storage or entity unavailable) answer (5). Nothing else is retried:
    /// other errors become an <see cref="ImpactApiException"/> at once, network failures an <see cref="HttpRequestException"/>.
    /// 0 turns retrying off.
    /// </summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>
    /// The most time retries of one request may take in all, waits included (2 minutes): a retry whose wait would end
    /// later is not made, and the 429 or 503 is thrown instead. <see cref="Timeout.InfiniteTimeSpan"/>: no limit.
    /// </summary>
    public TimeSpan MaxRetryDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The first wait when an answer has no <c>Retry-After</c> (0.5 s); it doubles per retry, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary>The longest such wait (30 s). A <c>Retry-After</c> is honoured as given.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Events per request when <see cref="ImpactClient.PostEventsAsync(IAsyncEnumerable{EventRequest}, CancellationToken)"/> batches (1000).</summary>
    public int EventBatchSize { get; set; } = 1000;

    /// <summary>Bytes per request at most when it batches (1 MiB; the server takes 16 MiB by default).</summary>
    public int EventBatchBytes { get; set; } = 1 << 20;

    /// <summary>Told before each retry: which answer, which retry, and how long until it.</summary>
    public Action<ImpactRetryNotice>? OnRetry { get; set; }

    /// <summary>The User-Agent product sent with every request.</summary>
    public string UserAgent { get; set; } = "ImpactGrains.Client";
}

/// <summary>A retry about to be made.</summary>
/// <param name="Attempt">1 for the first retry, 2 for the second, …</param>
/// <param name="Delay">How long until it.</param>
/// <param name="Method">The request's method.</param>
/// <param name="Uri">The request's URI.</param>
/// <param name="Error">The 429 or 503 answer that is retried.</param>
public sealed record ImpactRetryNotice(int Attempt, TimeSpan Delay, HttpMethod Method, Uri? Uri, ImpactApiException Error);
