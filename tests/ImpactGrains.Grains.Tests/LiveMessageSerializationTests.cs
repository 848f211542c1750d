using ImpactGrains.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Xunit;

namespace ImpactGrains.Grains.Tests;

public sealed class LiveMessageSerializationTests
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void A_score_change_crosses_silos_inside_a_live_message_with_every_score_in_its_order()
    {
        var when = new DateTimeOffset(2025, 3, 10, 14, 30, 0, 123, TimeSpan.Zero).AddTicks(4567);
        var score = new ScoreChanged("tesla", "Tesla, Inc.", "company", when, 87.5, 80.25, 0.1 + 0.2,
            new Dictionary<string, double>(StringComparer.Ordinal) { ["operational"] = 1.5, ["market"] = -0.0, ["financial"] = 0, ["reputational"] = double.Epsilon },
            new Dictionary<string, double>(StringComparer.Ordinal) { ["DE"] = 76, ["CN"] = 49, ["ünïcode"] = 1e-300 });
        IReadOnlyList<LiveMessage> messages =
        [
            new("epoch-1", 41, score),
            new("epoch-1", 42, new AlertFired("a1", "rule", "tesla", "score", "tesla", null, 90, 80, when)),
        ];

        var copy = Serializer.Deserialize<IReadOnlyList<LiveMessage>>(Serializer.SerializeToArray(messages))!;

        var back = Assert.IsType<ScoreChanged>(copy[0].Event);
        Assert.Equal((score.EntityId, score.Name, score.Kind, score.When, score.When.Offset), (back.EntityId, back.Name, back.Kind, back.When, back.When.Offset));
        Assert.Equal(new[] { score.Score, score.Direct, score.Inherited }.Select(BitConverter.DoubleToInt64Bits),
            new[] { back.Score, back.Direct, back.Inherited }.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(score.Categories.Select(c => (c.Key, BitConverter.DoubleToInt64Bits(c.Value))), back.Categories.Select(c => (c.Key, BitConverter.DoubleToInt64Bits(c.Value))));
        Assert.Equal(score.Regions.Select(c => (c.Key, BitConverter.DoubleToInt64Bits(c.Value))), back.Regions.Select(c => (c.Key, BitConverter.DoubleToInt64Bits(c.Value))));
        Assert.Equal(("epoch-1", 41L), (copy[0].Epoch, copy[0].Id));
        Assert.Equal(messages[1], copy[1]);
    }

    [Fact]
    public void A_score_change_keeps_an_offset_other_than_utc()
    {
        var when = new DateTimeOffset(2025, 3, 10, 14, 30, 0, TimeSpan.FromHours(-5.5));
        var score = new ScoreChanged("x", "X", "company", when, 1, 1, 0, new Dictionary<string, double>(), new Dictionary<string, double>());

        var back = Serializer.Deserialize<ScoreChanged>(Serializer.SerializeToArray(score))!;

        Assert.Equal(when, back.When);
        Assert.Equal(when.Offset, back.When.Offset);
        Assert.Empty(back.Categories);
    }
}
