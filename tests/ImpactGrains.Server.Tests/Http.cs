using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ImpactGrains.Server.Tests;

internal static class Http
{
    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient http, string url, string json) =>
        http.PutAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient http, string url, string json) =>
        http.PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PostNdjsonAsync(this HttpClient http, string url, string ndjson) =>
        http.PostAsync(url, new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson"));

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static async Task<JsonElement> GetJsonAsync(this HttpClient http, string url) => await (await http.GetAsync(url)).JsonAsync();

    /// <summary>Asserts an RFC 7807 problem+json answer with the status, and returns its detail.</summary>
    public static async Task<string> ProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : "";
    }

    public static async Task RegisterAsync(this HttpClient http, string id, string kind = "company", string? name = null)
    {
        var response = await http.PutJsonAsync($"/api/entities/{id}", $$"""{"name":"{{name ?? id}}","kind":"{{kind}}","tags":["test"]}""");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static string Outage(string id, string entity, string at, int reports, string region = "US") =>
        $$$"""{"id":"{{{id}}}","entity":"{{{entity}}}","type":"outage","occurredAt":"{{{at}}}","region":"{{{region}}}","data":{"reports":{{{reports}}},"baselineReports":500}}""";

    public static MediaTypeHeaderValue Json => new("application/json");
}
