using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ImpactGrains.Browser.Tests;

public static class DemoData
{
    public static readonly string[] Entities = ["elon-musk", "spacex", "tesla", "x"];

    /// <summary>The demo loads in the background after start-up: wait until the live leaderboard ranks all four.</summary>
    public static async Task WaitUntilLoadedAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var board = await http.GetFromJsonAsync<JsonElement>("/api/leaderboard");
            if (board.GetProperty("entries").GetArrayLength() >= Entities.Length)
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("the demo did not load within 30 s");
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<JsonElement> GetJsonAsync(HttpClient http, string path) => await http.GetFromJsonAsync<JsonElement>(path);

    /// <summary>Scores as the viewer shows them: one decimal.</summary>
    public static string Score(double value) => value.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
}
