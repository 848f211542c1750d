using ImpactGrains.Server.Hosting;
using ImpactGrains.Server.Operations;

if (args.Length > 0 && OperatorCommands.Names.Contains(args[0]))
{
    return await OperatorCommands.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddImpactGrains();

var app = builder.Build();
app.MapImpactApi();
await app.RunAsync();
return 0;
