using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Xunit;

namespace ImpactGrains.Grains.Tests;

public sealed class StandingBatchTests
{
    private static double[] Vector(params double[] entries)
    {
        var vector = new double[EventTypes.Count];
        entries.CopyTo(vector, 0);
        return vector;
    }

    private static readonly StandingReport[] Reports =
    [
        new("tesla", "Tesla, Inc.", EntityKindCode.Company, 638_771_234_567_890_123,
            Vector(0.1 + 0.2, 0, -0.0, double.Epsilon, 1e300, 0, 0, 0, 42),
            Vector(),
            new Dictionary<string, double[]>(StringComparer.Ordinal) { ["CN"] = Vector(0, 0, 0, 17.25), ["DE"] = Vector(3), ["ünïcode-区域"] = Vector() }),
        new("elon-musk", "", EntityKindCode.Person, 1, Vector(), Vector(1, 2, 3, 4, 5, 6, 7, 8, 9), []),
    ];

    private static void AssertSameBits(double[] expected, double[] actual) =>
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), actual.Select(BitConverter.DoubleToInt64Bits));

    private static void AssertSame(IReadOnlyList<StandingReport> expected, IReadOnlyList<StandingReport> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal((expected[i].Entity, expected[i].Name, expected[i].Kind, expected[i].AtTicks), (actual[i].Entity, actual[i].Name, actual[i].Kind, actual[i].AtTicks));
            AssertSameBits(expected[i].Direct, actual[i].Direct);
            AssertSameBits(expected[i].Inherited, actual[i].Inherited);
            Assert.Equal(expected[i].Regions.Keys.Order(StringComparer.Ordinal), actual[i].Regions.Keys.Order(StringComparer.Ordinal));
            foreach (var (region, vector) in expected[i].Regions)
            {
                AssertSameBits(vector, actual[i].Regions[region]);
            }
        }
    }

    [Fact]
    public void Standings_come_back_with_the_exact_bits_of_every_entry_so_that_they_score_as_they_were_sent()
    {
        AssertSame(Reports, StandingBatch.FromBody(new StandingBatch(Reports).Body).Reports);
        Assert.Empty(StandingBatch.FromBody(new StandingBatch([]).Body).Reports);
    }

    [Fact]
    public void A_batch_crosses_silos_through_the_Orleans_serializer_as_one_array_and_within_a_silo_as_it_is()
    {
        var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var batch = new StandingBatch(Reports);

        var copy = serializer.Deserialize<StandingBatch>(serializer.SerializeToArray(batch))!;

        Assert.Equal(batch.Body, copy.Body);
        AssertSame(Reports, copy.Reports);
        // A call within the silo copies its arguments; an immutable batch is passed on, its reports never encoded.
        var local = services.GetRequiredService<DeepCopier<StandingBatch>>().Copy(new StandingBatch(Reports));
        Assert.Same(Reports, local.Reports);
        // Zeros cost two bytes a vector: the whole batch is far smaller than the doubles it stands for.
        Assert.True(batch.Body.Length < 250, $"{batch.Body.Length} bytes");
    }

    [Fact]
    public void A_batch_of_another_format_or_another_set_of_event_types_is_refused_rather_than_misread()
    {
        var body = new StandingBatch(Reports).Body;

        var otherFormat = (byte[])body.Clone();
        otherFormat[0] = 2;
        Assert.Contains("unknown format 2", Assert.Throws<InvalidDataException>(() => StandingBatch.FromBody(otherFormat).Reports).Message);

        var otherTypes = (byte[])body.Clone();
        otherTypes[1] = EventTypes.Count + 1;
        Assert.Contains("event types", Assert.Throws<InvalidDataException>(() => StandingBatch.FromBody(otherTypes).Reports).Message);

        Assert.Throws<EndOfStreamException>(() => StandingBatch.FromBody(body[..^3]).Reports);
        var shortVector = Reports[0] with { Direct = [1.0] };
        Assert.Throws<ArgumentException>(() => new StandingBatch([shortVector]).Body);
    }
}
