using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Demo;

/// <summary>
/// The demo data, written from the seed article (March 2025): X's outages and the disputed cyberattack claim, Tesla's
/// sales collapse, protests and stock drop, Elon Musk's net-worth fall and SpaceX's Starship explosion. Times are the
/// article's; <see cref="DemoLoader"/> shifts them so that the last one lies just before now.
/// </summary>
public static class DemoScenario
{
    public static readonly IReadOnlyList<(string Id, string Name, EntityKind Kind, string[] Tags)> Entities =
    [
        ("x", "X", EntityKind.Company, ["social-media", "musk-companies"]),
        ("tesla", "Tesla", EntityKind.Company, ["automotive", "musk-companies"]),
        ("spacex", "SpaceX", EntityKind.Company, ["aerospace", "musk-companies"]),
        ("elon-musk", "Elon Musk", EntityKind.Person, ["executive"]),
    ];

    /// <summary>A leader's trouble rubs off on the companies he runs, and theirs on him, each at its own weight.</summary>
    public static readonly IReadOnlyList<LinkRecord> Links =
    [
        new("elon-musk", "tesla", 0.5, "ceo"),
        new("elon-musk", "x", 0.5, "owner"),
        new("elon-musk", "spacex", 0.4, "ceo"),
        new("tesla", "elon-musk", 0.4, "leads"),
        new("x", "elon-musk", 0.3, "owns"),
        new("spacex", "elon-musk", 0.3, "leads"),
    ];

    /// <summary>The companies Musk runs, as one portfolio: hit if any of them is (noisy-OR).</summary>
    public static readonly (string Id, string Name, GroupMethod Method, string[] Members) Group =
        ("musk-companies", "Musk companies", GroupMethod.NoisyOr, ["x", "tesla", "spacex"]);

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private const string Article = "seed article, March 2025";

    /// <summary>An incident as spike detection writes it (not part of the demo; an example for the API reference).</summary>
    public static ImpactEvent IncidentExample { get; } =
        new("incident-x-US-638771616000000000-detected", "x", EventType.Incident, Utc("2025-03-10T14:05:00Z"), "US", 1.0, "spike-detector",
            new IncidentData(IncidentStatus.Detected, 39_021, 410, 35, 1103.2, Utc("2025-03-10T14:05:00Z"), 39_021));

    /// <summary>The article's events at their original times (UTC).</summary>
    public static IReadOnlyList<ImpactEvent> Events { get; } =
    [
        // Tesla's February sales: China −49% (CPCA) and Germany −76% (KBA), reported in the first days of March.
        new("demo-tesla-sales-cn", "tesla", EventType.SalesChange, Utc("2025-03-04T08:00:00Z"), "CN", 1.0, Article,
            new SalesChangeData(-49, null, "2025-02")),
        new("demo-tesla-sales-de", "tesla", EventType.SalesChange, Utc("2025-03-05T09:00:00Z"), "DE", 1.0, Article,
            new SalesChangeData(-76, null, "2025-02")),
        // Starship's eighth flight broke up over the Bahamas and Florida on 7 March.
        new("demo-spacex-starship", "spacex", EventType.ProductFailure, Utc("2025-03-07T00:30:00Z"), "US", 1.0, Article,
            new SeverityData(Severity.Critical, "Starship exploded; debris fell over the Bahamas and Florida")),
        // Protests at Tesla showrooms across the US; the location count is an estimate, the article says "widespread".
        new("demo-tesla-protests", "tesla", EventType.Protest, Utc("2025-03-08T18:00:00Z"), "US", 0.9, Article + "; location count estimated",
            new ProtestData(null, 50)),
        // Monday 10 March: X goes down, recovers and crashes again; 39,021 US reports by 10:00 ET (14:00 UTC).
        new("demo-x-outage-1", "x", EventType.Outage, Utc("2025-03-10T14:00:00Z"), "US", 1.0, Article,
            new OutageData(39_021, 500, 60)),
        new("demo-x-outage-2", "x", EventType.Outage, Utc("2025-03-10T16:30:00Z"), "US", 1.0, Article + "; second surge, count estimated",
            new OutageData(20_000, 500, 120)),
        new("demo-x-outage-3", "x", EventType.Outage, Utc("2025-03-10T19:00:00Z"), "US", 1.0, Article + "; third wave, count estimated",
            new OutageData(10_000, 500, 60)),
        // Tesla stock falls 15% on the Monday, to its lowest level in months.
        new("demo-tesla-stock", "tesla", EventType.StockChange, Utc("2025-03-10T20:00:00Z"), "US", 1.0, Article,
            new StockChangeData(-15.4, 222.15)),
        // Musk blames a "massive cyberattack" from the Ukraine area; experts dispute it, so the claim weighs little.
        new("demo-x-cyberattack-claim", "x", EventType.Cyberattack, Utc("2025-03-10T21:00:00Z"), "GLOBAL", 0.3, Article + "; Musk on Fox Business, disputed",
            new CyberattackData(true, "IP addresses in the Ukraine area (disputed)")),
        new("demo-musk-statement", "elon-musk", EventType.Statement, Utc("2025-03-10T21:00:00Z"), "GLOBAL", 1.0, Article,
            new SeverityData(Severity.Major, "Blamed Ukraine for the X outage without evidence")),
        // Bloomberg Billionaires Index: down $132B since the start of the year.
        new("demo-musk-net-worth", "elon-musk", EventType.NetWorthChange, Utc("2025-03-10T22:00:00Z"), "GLOBAL", 1.0, Article + "; Bloomberg Billionaires Index",
            new NetWorthChangeData(-132e9, 301e9)),
    ];
}
