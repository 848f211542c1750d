using ImpactGrains.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddImpactGrains();

var app = builder.Build();
app.MapImpactApi();
app.Run();
