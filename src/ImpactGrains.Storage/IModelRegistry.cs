using System.Data.Common;
using ImpactGrains.Scoring.Model;

namespace ImpactGrains.Storage;

/// <summary>A registered model version.</summary>
/// <param name="Identity">The version name and a hash of every parameter, as this code computes it from the stored parameters.</param>
public sealed record ModelVersionRecord(string Name, string Identity, ScoringModel Model, DateTimeOffset CreatedAt)
{
    /// <summary>Reads a stored row; the stored parameters must read back as a valid model of the same name.</summary>
    public static ModelVersionRecord FromStored(string name, string parameters, DateTimeOffset createdAt)
    {
        var parsed = ScoringModelJson.Parse(parameters);
        if (parsed.Model is null || parsed.Model.Version != name)
        {
            throw new InvalidOperationException(
                $"the stored parameters of model version '{name}' do not read back: {string.Join("; ", parsed.Errors.DefaultIfEmpty("another version name"))}");
        }

        return new ModelVersionRecord(name, parsed.Model.Identity, parsed.Model, createdAt);
    }
}

public enum ModelRegistrationOutcome
{
    /// <summary>The version was new and is now registered.</summary>
    Created,

    /// <summary>The version was already registered with the same parameters; nothing changed.</summary>
    Unchanged,

    /// <summary>The version name is registered with other parameters; nothing changed.</summary>
    Conflict,
}

/// <param name="Version">The registered version under that name: the new one, or the one that was already there.</param>
public sealed record ModelRegistrationResult(ModelRegistrationOutcome Outcome, ModelVersionRecord Version);

/// <summary>
/// The scoring model versions known to the deployment, shared by every silo. A version's parameters never change once
/// registered: registering a known name with other parameters is refused, so a change of parameters is a new version.
/// </summary>
public interface IModelRegistry
{
    /// <summary>Registers a version, or finds it already registered; atomic, so concurrent silos agree on one.</summary>
    Task<ModelRegistrationResult> RegisterAsync(ScoringModel model, CancellationToken cancellationToken = default);

    Task<ModelVersionRecord?> FindAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every version, oldest first (ties by name).</summary>
    Task<IReadOnlyList<ModelVersionRecord>> ListAsync(CancellationToken cancellationToken = default);
}

internal static class ModelRegistration
{
    /// <summary>The JSON to store; refuses a model that would not read back.</summary>
    public static string Prepare(ScoringModel model)
    {
        var json = ScoringModelJson.Write(model);
        var parsed = ScoringModelJson.Parse(json);
        if (parsed.Model is null)
        {
            throw new ArgumentException($"model {model.Version} cannot be registered: {string.Join("; ", parsed.Errors)}", nameof(model));
        }

        return json;
    }

    /// <summary>A row of (name, parameters as JSON text, created_at).</summary>
    public static ModelVersionRecord ReadVersion<TInstant>(DbDataReader reader)
        where TInstant : IInstantColumn =>
        ModelVersionRecord.FromStored(reader.GetString(0), reader.GetString(1), TInstant.Read(reader, 2));

    public static ModelRegistrationResult Outcome(bool inserted, ScoringModel model, ModelVersionRecord stored) =>
        new(inserted ? ModelRegistrationOutcome.Created
            : stored.Identity == model.Identity ? ModelRegistrationOutcome.Unchanged
            : ModelRegistrationOutcome.Conflict, stored);
}
