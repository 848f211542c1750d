using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Storage;
using ImpactGrains.Storage.Postgres;

namespace ImpactGrains.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresModelRegistryTests(PostgresFixture fixture)
{
    private async Task<PostgresDatabase> MigratedAsync()
    {
        var database = new PostgresDatabase(await fixture.Server.CreateDatabaseAsync());
        await database.MigrateAsync();
        return database;
    }

    private static ScoringModel OutageTimes(string version, double severity)
    {
        var types = ScoringModel.Default.Types.ToDictionary(t => t.Key, t => t.Value);
        types[EventType.Outage] = types[EventType.Outage] with { Severity = severity };
        return ScoringModel.Default with { Version = version, Types = types };
    }

    [Fact]
    public async Task A_version_is_registered_once_and_never_changes_its_parameters()
    {
        await using var database = await MigratedAsync();
        var registry = new PostgresModelRegistry(database);

        var created = await registry.RegisterAsync(ScoringModel.Default);
        Assert.Equal(ModelRegistrationOutcome.Created, created.Outcome);
        Assert.Equal(("v1", ScoringModel.Default.Identity), (created.Version.Name, created.Version.Identity));

        var again = await registry.RegisterAsync(ScoringModel.Default);
        Assert.Equal(ModelRegistrationOutcome.Unchanged, again.Outcome);
        Assert.Equal(created.Version.CreatedAt, again.Version.CreatedAt);

        var conflict = await registry.RegisterAsync(OutageTimes("v1", 2));
        Assert.Equal(ModelRegistrationOutcome.Conflict, conflict.Outcome);
        Assert.Equal(ScoringModel.Default.Identity, conflict.Version.Identity); // the stored one, untouched
        Assert.Equal(1.0, (await registry.FindAsync("v1"))!.Model.Types[EventType.Outage].Severity);

        var v2 = OutageTimes("v2", 2);
        Assert.Equal(ModelRegistrationOutcome.Created, (await registry.RegisterAsync(v2)).Outcome);
        Assert.Null(await registry.FindAsync("v3"));
        Assert.Equal(["v1", "v2"], (await registry.ListAsync()).Select(v => v.Name));
        await Assert.ThrowsAsync<ArgumentException>(() => registry.RegisterAsync(ScoringModel.Default with { Version = "no spaces" }));
    }

    [Fact]
    public async Task Parameters_read_back_exactly_through_jsonb()
    {
        await using var database = await MigratedAsync();
        var registry = new PostgresModelRegistry(database);
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

        await registry.RegisterAsync(model);
        // A fresh registry on another data source: nothing cached, everything from the database.
        await using var other = new PostgresDatabase(database.ConnectionString);
        var stored = (await new PostgresModelRegistry(other).FindAsync("odd"))!;

        Assert.Equal(model.Identity, stored.Identity);
        Assert.Equal(ScoringModelJson.Write(model), ScoringModelJson.Write(stored.Model));
        Assert.Equal(ModelRegistrationOutcome.Unchanged, (await registry.RegisterAsync(model)).Outcome);
    }

    [Fact]
    public async Task Silos_that_start_together_agree_on_one_registration()
    {
        await using var database = await MigratedAsync();
        var databases = Enumerable.Range(0, 6).Select(_ => new PostgresDatabase(database.ConnectionString)).ToList();
        var outcomes = await Task.WhenAll(databases.Select(d => new PostgresModelRegistry(d).RegisterAsync(OutageTimes("v7", 3))));

        Assert.Single(outcomes, o => o.Outcome == ModelRegistrationOutcome.Created);
        Assert.Equal(5, outcomes.Count(o => o.Outcome == ModelRegistrationOutcome.Unchanged));
        Assert.Single(outcomes.Select(o => (o.Version.Identity, o.Version.CreatedAt)).Distinct());
        foreach (var d in databases)
        {
            await d.DisposeAsync();
        }
    }
}
