using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImpactGrains.Scoring.Events;

namespace ImpactGrains.Scoring.Model;

/// <summary>The numbers a model parameter is read within: above (or from) <paramref name="Minimum"/>, up to <paramref name="Maximum"/> if any.</summary>
public sealed record ParameterRange(string Name, double Minimum, bool MinimumExclusive, double? Maximum);

/// <summary>The outcome of reading a model: the model, or every problem found, each naming its field.</summary>
public sealed record ScoringModelParseResult(ScoringModel? Model, IReadOnlyList<string> Errors);

/// <summary>
/// The JSON form of a scoring model, as the model registry stores it and the admin API shows and takes it:
/// <code>
/// {"version":"v2","kappa":10,
///  "types":{"outage":{"severity":2,"halfLife":"12:00:00"},…},
///  "severityMagnitudes":{"minor":0.5,"major":1.5,"critical":3},
///  "outageBaselineFloor":500,…}
/// </code>
/// Writing gives every parameter, in a fixed order, with numbers in their shortest round-trip form and half-lives in
/// the constant time-span format (<c>[d.]hh:mm:ss[.fffffff]</c>), so a written model reads back with the same
/// identity and writes the same text again. Reading takes any subset: a parameter left out keeps model v1's value,
/// as with the <c>Impact:Model</c> configuration keys. <c>version</c> is required; unknown fields are refused, so
/// that a misspelt parameter never silently keeps its old value.
/// </summary>
public static partial class ScoringModelJson
{
    public const int MaxVersionLength = 64;

    /// <summary>The longest half-life taken: longer ones would overflow the forward-decay landmark window.</summary>
    public static readonly TimeSpan MaxHalfLife = TimeSpan.FromDays(36500);

    public const string VersionRule =
        "required string of 1–64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit";

    private const string HalfLifeRule = "must be a time span from 00:01:00 to 36500.00:00:00, such as 12:00:00 or 3.00:00:00";

    private enum Rule
    {
        Positive,
        NonNegative,
        UnitInterval,
    }

    private sealed record Scalar(string Name, Rule Rule, Func<ScoringModel, double> Get, Func<ScoringModel, double, ScoringModel> Set)
    {
        public bool Accepts(double value) => double.IsFinite(value) && Rule switch
        {
            Rule.Positive => value > 0,
            Rule.NonNegative => value >= 0,
            _ => value is >= 0 and <= 1,
        };

        public string Describe() => Rule switch
        {
            Rule.Positive => "must be a positive number",
            Rule.NonNegative => "must be a number ≥ 0",
            _ => "must be a number from 0 to 1",
        };
    }

    // Every numeric parameter outside types and severityMagnitudes, in the order they are written.
    private static readonly IReadOnlyList<Scalar> Scalars =
    [
        new("kappa", Rule.Positive, m => m.Kappa, (m, v) => m with { Kappa = v }),
        new("outageBaselineFloor", Rule.Positive, m => m.OutageBaselineFloor, (m, v) => m with { OutageBaselineFloor = v }),
        new("outageDurationWeight", Rule.NonNegative, m => m.OutageDurationWeight, (m, v) => m with { OutageDurationWeight = v }),
        new("claimedCyberattackFactor", Rule.UnitInterval, m => m.ClaimedCyberattackFactor, (m, v) => m with { ClaimedCyberattackFactor = v }),
        new("protestParticipantScale", Rule.Positive, m => m.ProtestParticipantScale, (m, v) => m with { ProtestParticipantScale = v }),
        new("salesDropScale", Rule.Positive, m => m.SalesDropScale, (m, v) => m with { SalesDropScale = v }),
        new("stockDropScale", Rule.Positive, m => m.StockDropScale, (m, v) => m with { StockDropScale = v }),
        new("netWorthDropScale", Rule.Positive, m => m.NetWorthDropScale, (m, v) => m with { NetWorthDropScale = v }),
        new("netWorthAbsoluteScaleUsd", Rule.Positive, m => m.NetWorthAbsoluteScaleUsd, (m, v) => m with { NetWorthAbsoluteScaleUsd = v }),
        new("incidentZScale", Rule.Positive, m => m.IncidentZScale, (m, v) => m with { IncidentZScale = v }),
    ];

    /// <summary>The names of the numeric parameters outside types and severityMagnitudes, as written.</summary>
    public static IReadOnlyList<string> ScalarNames { get; } = Scalars.Select(s => s.Name).ToList();

    /// <summary>The range each numeric parameter outside types and severityMagnitudes is read within, for the API's document.</summary>
    public static IReadOnlyList<ParameterRange> ScalarRanges { get; } = Scalars.Select(s => s.Rule switch
    {
        Rule.Positive => new ParameterRange(s.Name, 0, MinimumExclusive: true, null),
        Rule.NonNegative => new ParameterRange(s.Name, 0, MinimumExclusive: false, null),
        _ => new ParameterRange(s.Name, 0, MinimumExclusive: false, 1),
    }).ToList();

    /// <summary>The least a type's severity or a severity magnitude may be.</summary>
    public const double MinWeight = 0;

    private const string VersionUnanchored = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";

    /// <summary>A version name, as the OpenAPI document gives it (ECMA-262: $ is the end of the text).</summary>
    public const string VersionPattern = "^" + VersionUnanchored + "$";

    // \z, not $, which would also take a name with a trailing newline.
    [GeneratedRegex("^" + VersionUnanchored + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex VersionName();

    /// <summary>Whether a version name may be registered: it appears in URLs and in every score.</summary>
    public static bool IsValidVersionName(string? name) => name is not null && VersionName().IsMatch(name);

    /// <summary>The model as compact JSON, every parameter in a fixed order.</summary>
    public static string Write(ScoringModel model)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, model);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public static void Write(Utf8JsonWriter writer, ScoringModel model)
    {
        writer.WriteStartObject();
        writer.WriteString("version", model.Version);
        writer.WriteNumber("kappa", model.Kappa);
        writer.WriteStartObject("types");
        foreach (var type in EventTypes.All)
        {
            writer.WriteStartObject(type.WireName());
            writer.WriteNumber("severity", model.Types[type].Severity);
            writer.WriteString("halfLife", model.Types[type].HalfLife.ToString("c", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteStartObject("severityMagnitudes");
        foreach (var severity in Enum.GetValues<Severity>())
        {
            writer.WriteNumber(severity.WireName(), model.SeverityMagnitudes[severity]);
        }

        writer.WriteEndObject();
        foreach (var scalar in Scalars.Where(s => s.Name != "kappa"))
        {
            writer.WriteNumber(scalar.Name, scalar.Get(model));
        }

        writer.WriteEndObject();
    }

    public static ScoringModelParseResult Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return Parse(document.RootElement);
        }
        catch (JsonException ex)
        {
            return new ScoringModelParseResult(null, [$"the model is not valid JSON: {ex.Message}"]);
        }
    }

    /// <summary>Reads and validates a model; a parameter left out keeps model v1's value.</summary>
    public static ScoringModelParseResult Parse(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            return new ScoringModelParseResult(null, ["the model must be a JSON object"]);
        }

        var errors = new List<string>();
        var model = ScoringModel.Default;
        var types = model.Types.ToDictionary(t => t.Key, t => t.Value);
        var magnitudes = model.SeverityMagnitudes.ToDictionary(s => s.Key, s => s.Value);
        string? version = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in json.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                errors.Add($"{Shorten(property.Name)}: given twice");
                continue;
            }

            switch (property.Name)
            {
                case "version":
                    if (property.Value.ValueKind == JsonValueKind.String && IsValidVersionName(property.Value.GetString()))
                    {
                        version = property.Value.GetString();
                    }
                    else
                    {
                        errors.Add($"version: {VersionRule}");
                    }

                    break;
                case "types":
                    ReadTypes(property.Value, types, errors);
                    break;
                case "severityMagnitudes":
                    ReadMagnitudes(property.Value, magnitudes, errors);
                    break;
                default:
                    var scalar = Scalars.FirstOrDefault(s => s.Name == property.Name);
                    if (scalar is null)
                    {
                        errors.Add($"{Shorten(property.Name)}: unknown field; expected version, types, severityMagnitudes or one of {string.Join(", ", ScalarNames)}");
                    }
                    else if (Number(property.Value) is { } value && scalar.Accepts(value))
                    {
                        model = scalar.Set(model, value);
                    }
                    else
                    {
                        errors.Add($"{scalar.Name}: {scalar.Describe()}");
                    }

                    break;
            }
        }

        if (version is null && !seen.Contains("version"))
        {
            errors.Add($"version: {VersionRule}");
        }

        if (errors.Count > 0)
        {
            return new ScoringModelParseResult(null, errors);
        }

        model = model with { Version = version!, Types = types, SeverityMagnitudes = magnitudes };

        // The rules above are the model's own; this is a backstop should the model gain a rule of its own.
        var problems = model.Validate();
        return problems.Count > 0 ? new ScoringModelParseResult(null, problems) : new ScoringModelParseResult(model, []);
    }

    private static void ReadTypes(JsonElement element, Dictionary<EventType, EventTypeParameters> types, List<string> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add("types: must be an object with an entry per event type, such as {\"outage\":{\"severity\":1,\"halfLife\":\"12:00:00\"}}");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in element.EnumerateObject())
        {
            var path = $"types.{Shorten(entry.Name)}";
            if (!seen.Add(entry.Name))
            {
                errors.Add($"{path}: given twice");
                continue;
            }

            if (!EventTypes.TryParse(entry.Name, out var type))
            {
                errors.Add($"{path}: unknown event type; expected one of {string.Join(", ", EventTypes.All.Select(t => t.WireName()))}");
                continue;
            }

            if (entry.Value.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{path}: must be an object with severity and/or halfLife");
                continue;
            }

            var (severity, halfLife) = types[type];
            var fields = new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in entry.Value.EnumerateObject())
            {
                if (!fields.Add(field.Name))
                {
                    errors.Add($"{path}.{Shorten(field.Name)}: given twice");
                    continue;
                }

                switch (field.Name)
                {
                    case "severity":
                        if (Number(field.Value) is { } value && value >= MinWeight)
                        {
                            severity = value;
                        }
                        else
                        {
                            errors.Add($"{path}.severity: must be a number ≥ 0");
                        }

                        break;
                    case "halfLife":
                        if (field.Value.ValueKind == JsonValueKind.String &&
                            TimeSpan.TryParseExact(field.Value.GetString(), "c", CultureInfo.InvariantCulture, out var parsed) &&
                            parsed >= TimeSpan.FromMinutes(1) && parsed <= MaxHalfLife)
                        {
                            halfLife = parsed;
                        }
                        else
                        {
                            errors.Add($"{path}.halfLife: {HalfLifeRule}");
                        }

                        break;
                    default:
                        errors.Add($"{path}.{Shorten(field.Name)}: unknown field; expected severity or halfLife");
                        break;
                }
            }

            types[type] = new EventTypeParameters(severity, halfLife);
        }
    }

    private static void ReadMagnitudes(JsonElement element, Dictionary<Severity, double> magnitudes, List<string> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add("severityMagnitudes: must be an object such as {\"minor\":0.5,\"major\":1.5,\"critical\":3}");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in element.EnumerateObject())
        {
            var path = $"severityMagnitudes.{Shorten(entry.Name)}";
            if (!seen.Add(entry.Name))
            {
                errors.Add($"{path}: given twice");
            }
            else if (!EventTypes.TryParseSeverity(entry.Name, out var severity))
            {
                errors.Add($"{path}: unknown severity; expected minor, major or critical");
            }
            else if (Number(entry.Value) is { } value && value >= MinWeight)
            {
                magnitudes[severity] = value;
            }
            else
            {
                errors.Add($"{path}: must be a number ≥ 0");
            }
        }
    }

    private static double? Number(JsonElement element) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var value) && double.IsFinite(value) ? value : null;

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
