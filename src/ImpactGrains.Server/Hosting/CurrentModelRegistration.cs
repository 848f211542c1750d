using ImpactGrains.Scoring.Model;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// At start-up, registers the configured scoring model in the model registry (a no-op when it is there already). A
/// version name registered with other parameters stops the server: parameters never change under an old name.
/// </summary>
public sealed partial class CurrentModelRegistration(IModelRegistry registry, ScoringModel model, ILogger<CurrentModelRegistration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!ScoringModelJson.IsValidVersionName(model.Version))
        {
            throw new InvalidOperationException($"Impact:Model:Version: '{model.Version}' is not a valid version name: {ScoringModelJson.VersionRule}");
        }

        var registered = await registry.RegisterAsync(model, cancellationToken);
        switch (registered.Outcome)
        {
            case ModelRegistrationOutcome.Conflict:
                throw new InvalidOperationException(
                    $"Impact:Model: version '{model.Version}' is already registered with other parameters (identity {registered.Version.Identity}, " +
                    $"configured {model.Identity}); parameters never change under a version name, so give these parameters a new Impact:Model:Version");
            case ModelRegistrationOutcome.Created:
                LogRegistered(model.Version, model.Identity);
                break;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered scoring model {Version} ({Identity})")]
    private partial void LogRegistered(string version, string identity);
}
