using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Storage.Postgres;
using ImpactGrains.Storage.Sqlite;

namespace ImpactGrains.Storage.Tests;

/// <summary>
/// What every model registry must do, run against each provider: a version is registered once and its parameters never
/// change, they read back exactly, versions list oldest first, and registrations racing from several silos agree.
/// </summary>
public abstract class ModelRegistryContract
{
    protected abstract Task<OpenStore<IModelRegistry>> CreateAsync();

    private static ScoringModel WithOutageSeverity(string version, double severity)
    {
        var types = ScoringModel.Default.Types.ToDictionary(t => t.Key, t => t.Value);
        types[EventType.Outage] = types[EventType.Outage] with { Severity = severity };
        return ScoringModel.Default with { Version = version, Types = types };
    }

    [Fact]
    public async Task A_version_is_registered_once_and_never_changes_its_parameters()
    {
        await using var open = await CreateAsync();
        var registry = open.Store;

        var created = await registry.RegisterAsync(ScoringModel.Default);
        Assert.Equal(ModelRegistrationOutcome.Created, created.Outcome);
        Assert.Equal(("v1", ScoringModel.Default.Identity), (created.Version.Name, created.Version.Identity));

        var again = await registry.RegisterAsync(ScoringModel.Default);
        Assert.Equal(ModelRegistrationOutcome.Unchanged, again.Outcome);
        Assert.Equal(created.Version.CreatedAt, again.Version.CreatedAt);

        var conflict = await registry.RegisterAsync(WithOutageSeverity("v1", 2));
        Assert.Equal(ModelRegistrationOutcome.Conflict, conflict.Outcome);
        Assert.Equal(ScoringModel.Default.Identity, conflict.Version.Identity); // the stored one, untouched
        Assert.Equal(1.0, (await registry.FindAsync("v1"))!.Model.Types[EventType.Outage].Severity);

        Assert.Equal(ModelRegistrationOutcome.Created, (await registry.RegisterAsync(WithOutageSeverity("v2", 2))).Outcome);
        Assert.Equal(2.0, (await registry.FindAsync("v2"))!.Model.Types[EventType.Outage].Severity);
        Assert.Null(await registry.FindAsync("v3"));
        Assert.Equal(["v1", "v2"], (await registry.ListAsync()).Select(v => v.Name));
    }

    [Fact]
    public async Task A_model_that_would_not_read_back_is_refused_and_nothing_is_stored()
    {
        await using var open = await CreateAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => open.Store.RegisterAsync(ScoringModel.Default with { Version = "no spaces" }));
        Assert.Empty(await open.Store.ListAsync());
    }

    [Fact]
    public async Task Versions_list_oldest_first_not_by_name()
    {
        await using var open = await CreateAsync();
        Assert.Empty(await open.Store.ListAsync());
        foreach (var name in new[] { "vc", "va", "vb" })
        {
            await open.Store.RegisterAsync(WithOutageSeverity(name, 1.5));
            await Task.Delay(20); // distinct creation instants even on a coarse clock
        }

        var listed = await open.OpenAnother().ListAsync();
        Assert.Equal(["vc", "va", "vb"], listed.Select(v => v.Name));
        Assert.True(listed[0].CreatedAt < listed[1].CreatedAt && listed[1].CreatedAt < listed[2].CreatedAt);
        Assert.All(listed, v => Assert.Equal(WithOutageSeverity(v.Name, 1.5).Identity, v.Identity));
    }

    [Fact]
    public async Task Parameters_read_back_exactly()
    {
        await using var open = await CreateAsync();
        var types = ScoringModel.Default.Types.ToDictionary(t => t.Key, t => t.Value);
        types[EventType.Protest] = new EventTypeParameters(0.1 + 0.2, TimeSpan.FromDays(2) + TimeSpan.FromTicks(7));
        var model = ScoringModel.Default with
        {
            Version = "odd",
            Kappa = 1.0 / 3,
            Types = types,
            OutageBaselineFloor = double.Epsilon,
            ProtestParticipantScale = double.MaxValue,
            NetWorthAbsoluteScaleUsd = 9.999999999999999e22,
            SeverityMagnitudes = new Dictionary<Severity, double> { [Severity.Minor] = 1e-300, [Severity.Major] = Math.PI, [Severity.Critical] = 0 },
        };

        await open.Store.RegisterAsync(model);
        // A fresh registry: nothing cached, everything from the database.
        var stored = (await open.OpenAnother().FindAsync("odd"))!;

        Assert.Equal(model.Identity, stored.Identity);
        Assert.Equal(ScoringModelJson.Write(model), ScoringModelJson.Write(stored.Model));
        Assert.Equal(ModelRegistrationOutcome.Unchanged, (await open.OpenAnother().RegisterAsync(model)).Outcome);
    }

    [Fact]
    public async Task Silos_that_start_together_agree_on_one_registration()
    {
        await using var open = await CreateAsync();
        var registries = Enumerable.Range(0, 6).Select(_ => open.OpenAnother()).ToList();
        var outcomes = await Task.WhenAll(registries.Select(r => r.RegisterAsync(WithOutageSeverity("v7", 3))));

        Assert.Single(outcomes, o => o.Outcome == ModelRegistrationOutcome.Created);
        Assert.Equal(5, outcomes.Count(o => o.Outcome == ModelRegistrationOutcome.Unchanged));
        Assert.Single(outcomes.Select(o => (o.Version.Identity, o.Version.CreatedAt)).Distinct());
        Assert.Single(await open.Store.ListAsync());
    }
}

public sealed class SqliteModelRegistryTests : ModelRegistryContract
{
    protected override Task<OpenStore<IModelRegistry>> CreateAsync() =>
        ProviderDatabases.SqliteAsync<IModelRegistry>(database => new SqliteModelRegistry(database));
}

public sealed class PostgresModelRegistryTests(PostgresStorageFixture fixture) : ModelRegistryContract, IClassFixture<PostgresStorageFixture>
{
    protected override Task<OpenStore<IModelRegistry>> CreateAsync() =>
        ProviderDatabases.PostgresAsync<IModelRegistry>(fixture.Server, database => new PostgresModelRegistry(database));
}
