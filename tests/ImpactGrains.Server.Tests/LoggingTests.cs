using System.Text.Json;
using static ImpactGrains.Server.Tests.Http;

namespace ImpactGrains.Server.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task Json_logs_carry_the_event_id_on_ingestion_lines()
    {
        await using var server = await ServerProcess.StartAsync(demo: false, extraArgs:
            ["--Impact:Logging:Json=true", "--Logging:LogLevel:ImpactGrains.Server.Ingestion=Debug"]);
        try
        {
            await server.Http.RegisterAsync("logged");
            await (await server.Http.PostJsonAsync("/api/events", "[" + Outage("log-ok-1", "logged", "2025-03-10T14:00:00Z", 100) +
                """,{"id":"log-bad-1","entity":"logged","type":"outage","occurredAt":"2025-03-10T14:00:00Z"}]""")).JsonAsync();

            List<JsonElement> lines = [];
            for (var i = 0; i < 50 && !lines.Any(l => l.GetRawText().Contains("log-bad-1")); i++)
            {
                await Task.Delay(100);
                lines = server.Output.Split('\n')
                    .Where(l => l.TrimStart().StartsWith('{'))
                    .Select(l => JsonDocument.Parse(l).RootElement.Clone())
                    .ToList();
            }

            Assert.NotEmpty(lines);
            Assert.All(lines, l => Assert.True(l.TryGetProperty("LogLevel", out _)));
            var accepted = Assert.Single(lines, l => l.GetProperty("State").TryGetProperty("EventId", out var id) && id.GetString() == "log-ok-1");
            Assert.Equal("Debug", accepted.GetProperty("LogLevel").GetString());
            var rejected = Assert.Single(lines, l => l.GetProperty("State").TryGetProperty("EventId", out var id) && id.GetString() == "log-bad-1");
            Assert.Contains("data.reports", rejected.GetProperty("State").GetProperty("Reason").GetString());
        }
        finally
        {
            server.DeleteData();
        }
    }
}
