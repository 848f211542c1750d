using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImpactGrains.Client.Tests;

/// <summary>
/// The client's records against the server's OpenAPI document (docs/openapi.json, which a server test keeps equal to
/// what the running server serves): every schema has its record, with the same properties, compatible types, and
/// nullability where the document allows null or leaves a response field out.
/// </summary>
public sealed class ContractTests
{
    /// <summary>The record for each schema of the document.</summary>
    private static readonly Dictionary<string, Type> RecordOf = new(StringComparer.Ordinal)
    {
        ["EntityRequest"] = typeof(EntityRequest),
        ["EntityResponse"] = typeof(Entity),
        ["EntitySummary"] = typeof(EntitySummary),
        ["BulkEntityRequest"] = typeof(BulkEntityRequest),
        ["BulkResult"] = typeof(BulkResult),
        ["BulkRejection"] = typeof(BulkRejection),
        ["LinkRequest"] = typeof(LinkRequest),
        ["LinkResponse"] = typeof(Link),
        ["EventRequest"] = typeof(EventRequest),
        ["LoggedEvent"] = typeof(LoggedEvent),
        ["EventsPage"] = typeof(EventsPage),
        ["IngestionResult"] = typeof(IngestionResult),
        ["RejectedEvent"] = typeof(RejectedEvent),
        ["PeakReport"] = typeof(PeakReport),
        ["ImpactReport"] = typeof(ImpactReport),
        ["ContributionReport"] = typeof(EventContribution),
        ["ExplainReport"] = typeof(ExplainReport),
        ["HistoryPoint"] = typeof(HistoryPoint),
        ["HistoryReport"] = typeof(HistoryReport),
        ["LeaderboardEntry"] = typeof(LeaderboardEntry),
        ["LeaderboardResponse"] = typeof(LeaderboardResponse),
        ["GroupMember"] = typeof(GroupMember),
        ["GroupMemberRequest"] = typeof(GroupMember),
        ["GroupRequest"] = typeof(GroupRequest),
        ["GroupResponse"] = typeof(Group),
        ["GroupMemberReport"] = typeof(GroupMemberScore),
        ["GroupImpactReport"] = typeof(GroupImpactReport),
        ["GroupContributionReport"] = typeof(GroupContribution),
        ["GroupExplainReport"] = typeof(GroupExplainReport),
        ["AlertRuleRequest"] = typeof(AlertRuleRequest),
        ["AlertRuleResponse"] = typeof(AlertRule),
        ["DeliveryResponse"] = typeof(WebhookDelivery),
        ["AlertResponse"] = typeof(Alert),
        ["AlertsPage"] = typeof(AlertsPage),
        ["AttemptResponse"] = typeof(DeliveryAttempt),
        ["DeliveryLogResponse"] = typeof(DeliveryLog),
        ["ModelVersionResponse"] = typeof(ModelVersion),
        ["RescoreRequest"] = typeof(RescoreRequest),
        ["RescoreMover"] = typeof(RescoreMover),
        ["RescoreMovers"] = typeof(RescoreMovers),
        ["RescoreResponse"] = typeof(RescoreResponse),
    };

    /// <summary>Schemas the client represents otherwise, and how.</summary>
    private static readonly Dictionary<string, string> RepresentedOtherwise = new(StringComparer.Ordinal)
    {
        ["ProblemDetails"] = "every error answer becomes an ImpactApiException",
        ["JsonElement"] = "free-form JSON stays a JsonElement (an alert's details, a model's parameters)",
        ["ModelRequest"] = "RegisterModelAsync takes the model's JSON form as it is",
        ["ModelTypeRequest"] = "part of ModelRequest",
    };

    private static readonly NullabilityInfoContext Nullability = new();

    private static JsonObject Schemas()
    {
        var document = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "docs", "openapi.json")))!;
        return document["components"]!["schemas"]!.AsObject();
    }

    [Fact]
    public void Every_schema_of_the_document_has_its_record()
    {
        var unmatched = Schemas().Select(s => s.Key).Where(name => !RecordOf.ContainsKey(name) && !RepresentedOtherwise.ContainsKey(name)).ToList();
        Assert.True(unmatched.Count == 0, $"schemas without a record in ImpactGrains.Client: {string.Join(", ", unmatched)}");
        Assert.All(RecordOf.Keys, name => Assert.True(Schemas().ContainsKey(name), $"{name} is no longer in the document"));
    }

    public static TheoryData<string> SchemaNames => new(RecordOf.Keys);

    [Theory]
    [MemberData(nameof(SchemaNames))]
    public void The_record_has_the_schemas_properties_and_types(string schemaName)
    {
        var schema = Schemas()[schemaName]!.AsObject();
        var record = RecordOf[schemaName];
        var properties = record.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetMethod is not null && record.GetConstructors().Any(c => c.GetParameters().Any(a => a.Name == p.Name)))
            .ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name));
        var documented = schema["properties"]!.AsObject();
        Assert.Equal(documented.Select(p => p.Key).Order(), properties.Keys.Order());

        var required = schema["required"]?.AsArray().Select(r => (string)r!).ToHashSet() ?? [];
        var isResponse = !schemaName.EndsWith("Request", StringComparison.Ordinal);
        foreach (var (name, property) in properties)
        {
            var where = $"{schemaName}.{name} ({record.Name}.{property.Name})";
            var propertySchema = documented[name]!.AsObject();
            AssertCompatible(propertySchema, property.PropertyType, where);

            var nullable = Nullability.Create(property).ReadState == NullabilityState.Nullable || Nullable.GetUnderlyingType(property.PropertyType) is not null;
            if (Types(propertySchema).Contains("null"))
            {
                Assert.True(nullable, $"{where}: the document allows null, the record does not");
            }

            if (isResponse && !required.Contains(name))
            {
                Assert.True(nullable, $"{where}: the document may leave it out, the record needs it");
            }
        }
    }

    private static HashSet<string> Types(JsonObject schema) => schema["type"] switch
    {
        JsonArray many => many.Select(t => (string)t!).ToHashSet(),
        JsonValue one => [(string)one!],
        _ => [],
    };

    /// <summary>Whether values of the schema read into the CLR type (and the type writes values the schema takes).</summary>
    private static void AssertCompatible(JsonObject schema, Type type, string where)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (schema["anyOf"] is JsonArray branches)
        {
            // The document takes several forms (a group member: an id, or an object with its weight); the record must
            // be one of them.
            var mismatches = new List<string>();
            foreach (var branch in branches)
            {
                try
                {
                    AssertCompatible(branch!.AsObject(), type, where);
                    return;
                }
                catch (Xunit.Sdk.XunitException e)
                {
                    mismatches.Add(e.Message);
                }
            }

            Assert.Fail($"{where}: {type.Name} is none of the document's forms: {string.Join("; ", mismatches)}");
        }

        if (schema["$ref"] is { } reference)
        {
            var target = ((string)reference!)["#/components/schemas/".Length..];
            Assert.True(RecordOf.TryGetValue(target, out var expected) && expected == type || RepresentedOtherwise.ContainsKey(target) && type == typeof(JsonElement),
                $"{where}: the document refers to {target}, the record has {type.Name}");
            return;
        }

        var types = Types(schema);
        types.Remove("null");
        if (type == typeof(JsonElement) || type == typeof(JsonObject) || type == typeof(JsonNode))
        {
            Assert.True(types.Count == 0 || types.Contains("object"), $"{where}: free-form JSON in the record, {string.Join("|", types)} in the document");
            return;
        }

        var expectedType = type switch
        {
            _ when type == typeof(string) || type == typeof(Uri) || type == typeof(TimeSpan) => "string",
            _ when type == typeof(DateTimeOffset) => "string",
            _ when type == typeof(double) => "number",
            _ when type == typeof(int) || type == typeof(long) => "integer",
            _ when type == typeof(bool) => "boolean",
            _ when DictionaryValue(type) is not null => "object",
            _ when ElementType(type) is not null => "array",
            _ => throw new Xunit.Sdk.XunitException($"{where}: no JSON type known for {type.Name}"),
        };
        Assert.True(types.SetEquals([expectedType]), $"{where}: {string.Join("|", types)} in the document, {type.Name} in the record");

        if (type == typeof(DateTimeOffset))
        {
            Assert.Equal("date-time", (string?)schema["format"]);
        }
        else if (ElementType(type) is { } element && expectedType == "array")
        {
            Assert.True(schema["items"] is JsonObject, $"{where}: the document does not say what the array holds");
            AssertCompatible(schema["items"]!.AsObject(), element, $"{where}[]");
        }
        else if (DictionaryValue(type) is { } value && schema["additionalProperties"] is JsonObject values)
        {
            AssertCompatible(values, value, $"{where}{{}}");
        }
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(IReadOnlyList<>) || d == typeof(List<>) || d == typeof(IEnumerable<>)) ? type.GetGenericArguments()[0]
        : null;

    private static Type? DictionaryValue(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(IReadOnlyDictionary<,>) || d == typeof(Dictionary<,>)) ? type.GetGenericArguments()[1] : null;
}

/// <summary>The repository's root folder (where ImpactGrains.sln is).</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ImpactGrains.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ImpactGrains.sln was not found above " + AppContext.BaseDirectory);
    }
}
