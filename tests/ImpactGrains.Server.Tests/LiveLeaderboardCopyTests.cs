using System.Reflection;
using ImpactGrains.Abstractions;
using ImpactGrains.Grains;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Ledger;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Server.Api.Responses;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Tests;

/// <summary>A silo's copy of the leaderboard's candidates is fetched while its clients read it, and not otherwise.</summary>
public sealed class LiveLeaderboardCopyTests
{
    private sealed class CountingBoard : ILeaderboardGrain
    {
        private const long Version = 7;
        private int fetches;

        public int Fetches => Volatile.Read(ref fetches);

        public Task<CandidatesSnapshot> CandidatesAsync(long knownVersion)
        {
            Interlocked.Increment(ref fetches);
            var direct = new double[EventTypes.Count];
            direct[(int)EventType.Outage] = 3;
            var tesla = new StandingReport("tesla", "Tesla", EntityKindCode.Company, DateTime.UtcNow.Ticks, direct, new double[EventTypes.Count], []);
            return Task.FromResult(knownVersion == Version ? new CandidatesSnapshot(Version, null) : new CandidatesSnapshot(Version, [new StandingBatch([tesla])]));
        }

        public Task PublishAsync(int partition, StandingBatch candidates) => throw new NotSupportedException();

        public Task<IReadOnlyList<RankedEntry>> TopAsync(EntityKindCode? kind, EventCategoryCode? category, string? region, int limit, DateTimeOffset at) =>
            throw new NotSupportedException();
    }

    /// <summary>A grain factory that knows one grain: the board.</summary>
    public class BoardOnlyFactory : DispatchProxy
    {
        internal object? Board { get; set; }

        protected override object? Invoke(MethodInfo? method, object?[]? args) =>
            method?.Name == nameof(IGrainFactory.GetGrain) ? Board : throw new NotSupportedException(method?.Name);
    }

    [Fact]
    public async Task A_silo_fetches_the_candidates_only_while_its_clients_read_the_live_leaderboard()
    {
        var board = new CountingBoard();
        var factory = DispatchProxy.Create<IGrainFactory, BoardOnlyFactory>();
        ((BoardOnlyFactory)(object)factory).Board = board;
        var options = Options.Create(new LeaderboardOptions { PublishInterval = TimeSpan.FromMilliseconds(50), CopyIdleAfter = TimeSpan.FromMilliseconds(400) });
        using var copy = new LiveLeaderboard(factory, new DecayTable(ScoringModel.Default), TimeProvider.System, options, NullLogger<LiveLeaderboard>.Instance);
        await copy.StartAsync(CancellationToken.None);
        try
        {
            // Nobody has read it: nothing fetched.
            await Task.Delay(500);
            Assert.Equal(0, board.Fetches);
            Assert.False(copy.Ready);

            // The first read fetches the copy and answers from it, with its tag; reads keep it fetched.
            var first = await copy.FindAsync(null, null, null, null, 10);
            Assert.NotNull(first);
            Assert.StartsWith("\"lb-", first.Value.ETag);
            Assert.Contains("tesla", System.Text.Encoding.UTF8.GetString(first.Value.Utf8.Span));
            var afterFirst = board.Fetches;
            for (var i = 0; i < 15; i++)
            {
                Assert.NotNull(await copy.FindAsync(null, null, null, null, 10));
                await Task.Delay(20);
            }

            Assert.True(board.Fetches > afterFirst, $"{board.Fetches} fetches while reading");

            // No more reads: after the idle time the copy is dropped and nothing more is fetched.
            await Task.Delay(1200);
            Assert.False(copy.Ready);
            var idle = board.Fetches;
            await Task.Delay(500);
            Assert.Equal(idle, board.Fetches);

            // The next read fetches it again at once.
            Assert.NotNull(await copy.FindAsync(null, null, null, null, 10));
            Assert.True(board.Fetches > idle);
        }
        finally
        {
            await copy.StopAsync(CancellationToken.None);
        }
    }
}
