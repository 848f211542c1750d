using System.Globalization;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Model;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// Reads the scoring model from the <c>Impact:Model</c> section: each key overrides one parameter of the default
/// model, and any override must name a new <c>Version</c>, so that scores never change under an old version's name.
/// </summary>
public static class ScoringModelConfiguration
{
    public static ScoringModel Read(IConfigurationSection section)
    {
        var model = ScoringModel.Default;
        if (!section.Exists())
        {
            return model;
        }

        double Number(string key, double fallback) =>
            section[key] is { } text
                ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                    ? value
                    : throw new InvalidOperationException($"Impact:Model:{key}: '{text}' is not a number")
                : fallback;

        var types = model.Types.ToDictionary(t => t.Key, t => t.Value);
        foreach (var type in EventTypes.All)
        {
            var typeSection = section.GetSection("Types").GetSection(type.WireName());
            var halfLife = typeSection["HalfLife"] is { } text
                ? TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : throw new InvalidOperationException($"Impact:Model:Types:{type.WireName()}:HalfLife: '{text}' is not a time span such as 12:00:00 or 3.00:00:00")
                : types[type].HalfLife;
            types[type] = new EventTypeParameters(Number($"Types:{type.WireName()}:Severity", types[type].Severity), halfLife);
        }

        var magnitudes = model.SeverityMagnitudes.ToDictionary(
            s => s.Key, s => Number($"SeverityMagnitudes:{s.Key.WireName()}", s.Value));

        var configured = model with
        {
            Version = section["Version"] ?? model.Version,
            Kappa = Number(nameof(ScoringModel.Kappa), model.Kappa),
            Types = types,
            OutageBaselineFloor = Number(nameof(ScoringModel.OutageBaselineFloor), model.OutageBaselineFloor),
            OutageDurationWeight = Number(nameof(ScoringModel.OutageDurationWeight), model.OutageDurationWeight),
            ClaimedCyberattackFactor = Number(nameof(ScoringModel.ClaimedCyberattackFactor), model.ClaimedCyberattackFactor),
            ProtestParticipantScale = Number(nameof(ScoringModel.ProtestParticipantScale), model.ProtestParticipantScale),
            SalesDropScale = Number(nameof(ScoringModel.SalesDropScale), model.SalesDropScale),
            StockDropScale = Number(nameof(ScoringModel.StockDropScale), model.StockDropScale),
            NetWorthDropScale = Number(nameof(ScoringModel.NetWorthDropScale), model.NetWorthDropScale),
            NetWorthAbsoluteScaleUsd = Number(nameof(ScoringModel.NetWorthAbsoluteScaleUsd), model.NetWorthAbsoluteScaleUsd),
            IncidentZScale = Number(nameof(ScoringModel.IncidentZScale), model.IncidentZScale),
            SeverityMagnitudes = magnitudes,
        };

        var problems = configured.Validate().ToList();
        if (configured.Version == model.Version && !SameParameters(configured, model))
        {
            problems.Add($"Version: the parameters differ from model {model.Version}, so give them a new version name");
        }

        return problems.Count == 0
            ? configured
            : throw new InvalidOperationException("Impact:Model is invalid: " + string.Join("; ", problems));
    }

    private static bool SameParameters(ScoringModel a, ScoringModel b) =>
        a.Types.All(t => b.Types[t.Key] == t.Value) &&
        a.SeverityMagnitudes.All(s => b.SeverityMagnitudes[s.Key] == s.Value) &&
        (a with { Types = b.Types, SeverityMagnitudes = b.SeverityMagnitudes }) == b;
}
