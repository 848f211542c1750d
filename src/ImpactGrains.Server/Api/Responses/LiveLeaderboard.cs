using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ImpactGrains.Abstractions;
using ImpactGrains.Grains;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Ranking;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Api.Responses;

/// <summary>
/// This silo's copy of the published standings (#15): every partition's candidates, fetched from the leaderboard
/// grain once per publish interval when they changed, so that a live leaderboard read makes no grain call; kept only
/// while this silo's clients read the live leaderboard (<see cref="LeaderboardOptions.CopyIdleAfter"/>). Answers are
/// ranked at the start of the current publish interval (the instant the answer's <c>at</c> names) and kept serialized
/// per query until the next interval or the next publication; their ETag names both, so every silo gives the same
/// answer and tag for the same candidates and interval.
/// </summary>
public sealed partial class LiveLeaderboard(
    IGrainFactory grains, DecayTable table, TimeProvider time, IOptions<LeaderboardOptions> options, ILogger<LiveLeaderboard> logger)
    : BackgroundService
{
    private const int MaxAnswers = 4096;
    private readonly long intervalTicks = Math.Max(1, options.Value.PublishInterval.Ticks);
    private readonly ConcurrentDictionary<Query, Answer> answers = new();
    private readonly long idleAfterTicks = options.Value.CopyIdleAfter.Ticks;
    private volatile Copy? copy;

    // When a client last asked for the live leaderboard here (UTC ticks); none yet, so a silo fetches nothing until then.
    private long lastReadTicks = long.MinValue / 2;

    /// <summary><c>Cache-Control</c> of a live answer: private (keys), for one publish interval in whole seconds (at least 1).</summary>
    public string CacheControl { get; } =
        "private, max-age=" + Math.Max(1, (int)Math.Ceiling(options.Value.PublishInterval.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether this silo holds a copy (none before its clients' first live read, nor after they stop reading).</summary>
    public bool Ready => copy is not null;

    /// <summary>
    /// <see cref="Find"/>, fetching the copy first when this silo holds none (its first live read, or the first after
    /// its clients had stopped reading); null only when the leaderboard grain cannot be reached.
    /// </summary>
    public async ValueTask<(ReadOnlyMemory<byte> Utf8, string ETag)?> FindAsync(string? kind, EntityKind? kindFilter, EventCategory? category, string? region, int limit)
    {
        if (Find(kind, kindFilter, category, region, limit) is { } answer)
        {
            return answer;
        }

        try
        {
            await RefreshAsync();
        }
        catch (Exception ex)
        {
            LogRefreshFailed(ex);
            return null;
        }

        return Find(kind, kindFilter, category, region, limit);
    }

    /// <summary>
    /// The answer to a live query (no <c>at</c>, a limit within the candidates), serialized, with its ETag; null while
    /// this silo holds no copy. Either way the read keeps the copy fetched (<see cref="LeaderboardOptions.CopyIdleAfter"/>).
    /// </summary>
    /// <param name="kind">The kind as the query gave it, echoed in the answer.</param>
    private (ReadOnlyMemory<byte> Utf8, string ETag)? Find(string? kind, EntityKind? kindFilter, EventCategory? category, string? region, int limit)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (Volatile.Read(ref lastReadTicks) != now)
        {
            Volatile.Write(ref lastReadTicks, now);
        }

        if (copy is not { } current)
        {
            return null;
        }

        var bucket = now / intervalTicks * intervalTicks;
        var query = new Query(kind, category, region, limit);
        if (answers.TryGetValue(query, out var known) && known.Version == current.Version && known.Bucket == bucket)
        {
            return (known.Utf8, known.ETag);
        }

        var at = new DateTimeOffset(bucket, TimeSpan.Zero);
        var entries = Rankings.Top(current.Standings.Value, new Board(kindFilter, category, region), bucket, table, limit)
            .Select(r => new LeaderboardEntry(r.Standing.Entity, r.Standing.Name, r.Standing.Kind.WireName(), r.Score))
            .ToList();
        var utf8 = JsonSerializer.SerializeToUtf8Bytes(new LeaderboardResponse(at, kind, category?.WireName(), region, entries), ReadJson.Default.LeaderboardResponse);
        var answer = new Answer(current.Version, bucket, utf8, string.Create(CultureInfo.InvariantCulture, $"\"lb-{current.Version:x}-{bucket:x}\""));
        if (answers.Count >= MaxAnswers)
        {
            answers.Clear();
        }

        answers[query] = answer;
        return (answer.Utf8, answer.ETag);
    }

    /// <summary>Fetches the candidates now when they changed (also what the tests call to skip the wait).</summary>
    public async Task RefreshAsync()
    {
        var snapshot = await grains.GetGrain<ILeaderboardGrain>(0).CandidatesAsync(copy?.Version ?? 0);
        if (snapshot.Candidates is { } candidates)
        {
            copy = new Copy(snapshot.Version, new Lazy<IReadOnlyList<Standing>>(
                () => candidates.SelectMany(batch => batch.Reports).Select(c => c.ToStanding()).ToList()));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // One publish interval: a publication reaches this copy at most that long after the leaderboard grain has it.
        // Twice as often cost every other silo a tenth of its CPU under load (the whole candidate set crossing silos
        // eight times a second, docs/performance.md), for 125 ms of freshness.
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond * 10, intervalTicks)), time);
        do
        {
            if (time.GetUtcNow().UtcTicks - Volatile.Read(ref lastReadTicks) > idleAfterTicks)
            {
                // Nobody here reads it: no copy to keep current, and none kept stale for a read long after.
                if (copy is not null)
                {
                    copy = null;
                    answers.Clear();
                }

                continue;
            }

            try
            {
                await RefreshAsync();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The silo is starting or the grain is moving: the copy stays as it was until the next tick.
                LogRefreshFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The leaderboard copy could not be refreshed; it will be on the next tick")]
    private partial void LogRefreshFailed(Exception exception);

    /// <summary>
    /// The candidates are decoded at the first read of their version: under load a new version comes every publish
    /// interval, and a silo whose clients do not read the leaderboard then never decodes one.
    /// </summary>
    private sealed record Copy(long Version, Lazy<IReadOnlyList<Standing>> Standings);

    private readonly record struct Query(string? Kind, EventCategory? Category, string? Region, int Limit);

    private sealed record Answer(long Version, long Bucket, byte[] Utf8, string ETag);
}
