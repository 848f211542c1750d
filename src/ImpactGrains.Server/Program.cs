using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Operations;

if (args.Length > 0 && OperatorCommands.Names.Contains(args[0]))
{
    return await OperatorCommands.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddImpactGrains();

try
{
    var app = builder.Build();
    app.MapImpactApi();
    await app.RunAsync();
}
catch (Exception ex) when (StartupValidation.RefusalMessage(ex) is { } invalid)
{
    // Options that fail validation on start: one line naming the key and the problem, as every refusal.
    StartupRefusal.Exit(invalid);
}

return 0;
