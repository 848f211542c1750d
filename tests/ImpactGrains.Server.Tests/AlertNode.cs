using ImpactGrains.Alerting;
using ImpactGrains.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ImpactGrains.Server.Tests;

/// <summary>One node's alert pipeline on its own SQLite store: the real evaluator and dispatcher with the production webhook client.</summary>
public sealed class AlertNode : IDisposable
{
    public AlertNode(string directory, AlertOptions options)
    {
        var database = new SqliteDatabase(directory);
        database.Migrate();
        Store = new SqliteAlertStore(database);
        var services = new ServiceCollection();
        services.AddLogging();
        services.Configure<AlertOptions>(o =>
        {
            o.Retries = options.Retries;
            o.RetryDelay = options.RetryDelay;
            o.AttemptTimeout = options.AttemptTimeout;
            o.TotalTimeout = options.TotalTimeout;
            o.RedeliveryDelay = options.RedeliveryDelay;
            o.MaxRedeliveryDelay = options.MaxRedeliveryDelay;
            o.MaxAttempts = options.MaxAttempts;
            o.RuleRefresh = options.RuleRefresh;
            o.AllowedWebhookHosts = options.AllowedWebhookHosts;
        });
        services.AddAlertWebhookClient();
        Provider = services.BuildServiceProvider();
        var resolved = Provider.GetRequiredService<IOptions<AlertOptions>>();
        var signal = new AlertOutboxSignal();
        Evaluator = new AlertEvaluator(Store, signal, resolved, TimeProvider.System, NullLogger<AlertEvaluator>.Instance);
        Dispatcher = new WebhookDispatcher(Store, Provider.GetRequiredService<IHttpClientFactory>(), signal, resolved, TimeProvider.System,
            NullLogger<WebhookDispatcher>.Instance);
    }

    public SqliteAlertStore Store { get; }

    public ServiceProvider Provider { get; }

    public AlertEvaluator Evaluator { get; }

    public WebhookDispatcher Dispatcher { get; }

    public void Dispose()
    {
        Dispatcher.Dispose();
        Provider.Dispose();
    }
}
