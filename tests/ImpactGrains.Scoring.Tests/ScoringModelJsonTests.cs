using System.Text.Json;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Model;

namespace ImpactGrains.Scoring.Tests;

public sealed class ScoringModelJsonTests
{
    private static ScoringModel Read(string json)
    {
        var result = ScoringModelJson.Parse(json);
        Assert.True(result.Model is not null, string.Join("; ", result.Errors));
        Assert.Empty(result.Errors);
        return result.Model;
    }

    private static IReadOnlyList<string> Errors(string json)
    {
        var result = ScoringModelJson.Parse(json);
        Assert.Null(result.Model);
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }

    /// <summary>Every parameter, compared bit for bit.</summary>
    private static void AssertSameParameters(ScoringModel expected, ScoringModel actual)
    {
        Assert.Equal(expected.Version, actual.Version);
        foreach (var property in typeof(ScoringModel).GetProperties().Where(p => p.PropertyType == typeof(double)))
        {
            Assert.True(
                BitConverter.DoubleToInt64Bits((double)property.GetValue(expected)!) == BitConverter.DoubleToInt64Bits((double)property.GetValue(actual)!),
                $"{property.Name}: {property.GetValue(expected)} became {property.GetValue(actual)}");
        }

        foreach (var type in EventTypes.All)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Types[type].Severity), BitConverter.DoubleToInt64Bits(actual.Types[type].Severity));
            Assert.Equal(expected.Types[type].HalfLife.Ticks, actual.Types[type].HalfLife.Ticks);
        }

        foreach (var severity in Enum.GetValues<Severity>())
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected.SeverityMagnitudes[severity]), BitConverter.DoubleToInt64Bits(actual.SeverityMagnitudes[severity]));
        }

        Assert.Equal(expected.Identity, actual.Identity);
    }

    [Fact]
    public void The_default_model_is_written_with_every_parameter_and_reads_back_identically()
    {
        var json = ScoringModelJson.Write(ScoringModel.Default);

        Assert.StartsWith("""{"version":"v1","kappa":10,"types":{"outage":{"severity":1,"halfLife":"12:00:00"},"cyberattack":{"severity":2,"halfLife":"3.00:00:00"},""", json);
        Assert.Contains("\"severityMagnitudes\":{\"minor\":0.5,\"major\":1.5,\"critical\":3},\"outageBaselineFloor\":500,\"outageDurationWeight\":0.25,", json);
        Assert.Contains("\"netWorthAbsoluteScaleUsd\":10000000000,", json);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(EventTypes.All.Select(t => t.WireName()), document.RootElement.GetProperty("types").EnumerateObject().Select(p => p.Name));

        var back = Read(json);
        AssertSameParameters(ScoringModel.Default, back);
        Assert.Equal(json, ScoringModelJson.Write(back));
    }

    [Fact]
    public void Every_numeric_parameter_of_the_model_is_in_the_json_form()
    {
        // A parameter added to ScoringModel but not to the JSON form would silently take v1's value in the registry.
        var numeric = typeof(ScoringModel).GetProperties()
            .Where(p => p.PropertyType == typeof(double))
            .Select(p => char.ToLowerInvariant(p.Name[0]) + p.Name[1..])
            .Order(StringComparer.Ordinal);
        Assert.Equal(numeric, ScoringModelJson.ScalarNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Awkward_values_round_trip_exactly()
    {
        var types = ScoringModel.Default.Types.ToDictionary(t => t.Key, t => t.Value);
        types[EventType.Outage] = new EventTypeParameters(0.1 + 0.2, new TimeSpan(1, 2, 3, 4) + TimeSpan.FromTicks(5));
        types[EventType.Protest] = new EventTypeParameters(1e-300, TimeSpan.FromMinutes(1));
        types[EventType.SalesChange] = new EventTypeParameters(0, ScoringModelJson.MaxHalfLife);
        var model = ScoringModel.Default with
        {
            Version = "v2.experimental_1-b",
            Kappa = 1.0 / 3,
            Types = types,
            SeverityMagnitudes = new Dictionary<Severity, double> { [Severity.Minor] = 0, [Severity.Major] = Math.PI, [Severity.Critical] = 1e15 + 0.125 },
            OutageBaselineFloor = double.Epsilon,
            OutageDurationWeight = 0,
            ClaimedCyberattackFactor = 1,
            ProtestParticipantScale = double.MaxValue,
            SalesDropScale = 123456789.98765433,
            StockDropScale = 2.5e-8,
            NetWorthDropScale = 7,
            NetWorthAbsoluteScaleUsd = 9.999999999999999e22,
        };
        Assert.Empty(model.Validate());

        var json = ScoringModelJson.Write(model);
        var back = Read(json);

        AssertSameParameters(model, back);
        Assert.Equal(json, ScoringModelJson.Write(back));
        Assert.Contains("\"halfLife\":\"1.02:03:04.0000005\"", json);
        Assert.NotEqual(ScoringModel.Default.Identity, back.Identity);
    }

    [Fact]
    public void Parameters_left_out_keep_the_values_of_v1()
    {
        var model = Read("""{"version":"v2","types":{"outage":{"severity":2},"statement":{"halfLife":"1.00:00:00"}},"severityMagnitudes":{"major":2},"kappa":12.5}""");

        Assert.Equal("v2", model.Version);
        Assert.Equal(12.5, model.Kappa);
        Assert.Equal(new EventTypeParameters(2, TimeSpan.FromHours(12)), model.Types[EventType.Outage]);
        Assert.Equal(new EventTypeParameters(1, TimeSpan.FromDays(1)), model.Types[EventType.Statement]);
        Assert.Equal(ScoringModel.Default.Types[EventType.SalesChange], model.Types[EventType.SalesChange]);
        Assert.Equal((0.5, 2.0, 3.0), (model.SeverityMagnitudes[Severity.Minor], model.SeverityMagnitudes[Severity.Major], model.SeverityMagnitudes[Severity.Critical]));
        Assert.Equal(ScoringModel.Default.OutageBaselineFloor, model.OutageBaselineFloor);

        // Only the version given: the parameters of v1 under another name, hence another identity.
        var renamed = Read("""{"version":"v1-copy"}""");
        Assert.Equal(ScoringModelJson.Write(ScoringModel.Default).Replace("\"v1\"", "\"v1-copy\""), ScoringModelJson.Write(renamed));
        Assert.NotEqual(ScoringModel.Default.Identity, renamed.Identity);
        Assert.Equal(ScoringModel.Default.Identity, Read("""{"version":"v1"}""").Identity);
    }

    [Theory]
    [InlineData("""{"version":"v2","kappa":0}""", "kappa: must be a positive number")]
    [InlineData("""{"version":"v2","kappa":"10"}""", "kappa: must be a positive number")]
    [InlineData("""{"version":"v2","kappa":null}""", "kappa: must be a positive number")]
    [InlineData("""{"version":"v2","outageBaselineFloor":-500}""", "outageBaselineFloor: must be a positive number")]
    [InlineData("""{"version":"v2","outageDurationWeight":-0.1}""", "outageDurationWeight: must be a number ≥ 0")]
    [InlineData("""{"version":"v2","claimedCyberattackFactor":1.5}""", "claimedCyberattackFactor: must be a number from 0 to 1")]
    [InlineData("""{"version":"v2","types":{"outage":{"severity":-1}}}""", "types.outage.severity: must be a number ≥ 0")]
    [InlineData("""{"version":"v2","types":{"outage":{"halfLife":"00:00:30"}}}""", "types.outage.halfLife: must be a time span")]
    [InlineData("""{"version":"v2","types":{"protest":{"halfLife":"12h"}}}""", "types.protest.halfLife: must be a time span")]
    [InlineData("""{"version":"v2","types":{"protest":{"halfLife":43200}}}""", "types.protest.halfLife: must be a time span")]
    [InlineData("""{"version":"v2","types":{"protest":{"halfLife":"36501.00:00:00"}}}""", "types.protest.halfLife: must be a time span")]
    [InlineData("""{"version":"v2","types":{"outage":{"weight":2}}}""", "types.outage.weight: unknown field")]
    [InlineData("""{"version":"v2","types":{"recall":{"severity":2}}}""", "types.recall: unknown event type")]
    [InlineData("""{"version":"v2","types":{"outage":2}}""", "types.outage: must be an object")]
    [InlineData("""{"version":"v2","types":[]}""", "types: must be an object")]
    [InlineData("""{"version":"v2","severityMagnitudes":{"major":-1}}""", "severityMagnitudes.major: must be a number ≥ 0")]
    [InlineData("""{"version":"v2","severityMagnitudes":{"huge":9}}""", "severityMagnitudes.huge: unknown severity")]
    [InlineData("""{"version":"v2","kapa":9}""", "kapa: unknown field")]
    [InlineData("""{"version":"v2","kappa":9,"kappa":10}""", "kappa: given twice")]
    [InlineData("""{"kappa":9}""", "version: required string")]
    [InlineData("""{"version":""}""", "version: required string")]
    [InlineData("""{"version":"v 2"}""", "version: required string")]
    [InlineData("""{"version":"-v2"}""", "version: required string")]
    [InlineData("""{"version":"v2/x"}""", "version: required string")]
    [InlineData("""{"version":2}""", "version: required string")]
    [InlineData("""[{"version":"v2"}]""", "the model must be a JSON object")]
    [InlineData("""{"version":"v2",""", "the model is not valid JSON")]
    public void An_invalid_model_is_refused_and_the_error_names_the_field(string json, string expected)
    {
        var errors = Errors(json);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_problem_is_reported_not_only_the_first()
    {
        var errors = Errors("""{"version":"v2","kappa":-1,"types":{"outage":{"severity":-2,"halfLife":"soon"}},"stockDropScale":0}""");
        Assert.Equal(4, errors.Count);
        Assert.Equal(["kappa", "types.outage.severity", "types.outage.halfLife", "stockDropScale"], errors.Select(e => e[..e.IndexOf(':')]));
    }

    [Fact]
    public void A_version_name_is_at_most_64_characters()
    {
        Assert.True(ScoringModelJson.IsValidVersionName(new string('v', 64)));
        Assert.False(ScoringModelJson.IsValidVersionName(new string('v', 65)));
        Assert.False(ScoringModelJson.IsValidVersionName(null));
    }
}
