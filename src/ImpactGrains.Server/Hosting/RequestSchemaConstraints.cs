using System.Globalization;
using System.Text.Json.Nodes;
using ImpactGrains.Alerting;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Scoring.Groups;
using ImpactGrains.Scoring.Model;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Server.Api;
using Microsoft.OpenApi;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// Writes into the request bodies' schemas, machine-readably, the rules the endpoints enforce when they read those
/// bodies by hand: required fields, lengths, patterns, enumerations, numeric ranges, item counts, and
/// additionalProperties: false where unknown fields are refused. Every value comes from the constant or the enum the
/// validator itself uses (<see cref="RequestRules"/>, <see cref="EntityIds"/>, <see cref="EventJson"/>,
/// <see cref="ScoringModelJson"/>, …), and a test posts bodies just inside and just outside each bound stated here to
/// the real endpoints (RequestSchemaDriftTests), so the document and the checks cannot drift apart unnoticed.
/// </summary>
internal static class RequestSchemaConstraints
{
    /// <summary>Adds the constraints when <paramref name="schema"/> is the whole schema of one of the request types.</summary>
    public static void Apply(OpenApiSchema schema, Type type, IServiceProvider services)
    {
        if (type == typeof(EntityRequest))
        {
            Entity(schema);
        }
        else if (type == typeof(BulkEntityRequest))
        {
            Entity(schema);
            EntityId(Property(schema, "id"));
        }
        else if (type == typeof(LinkRequest))
        {
            EntityId(Property(schema, "from"));
            EntityId(Property(schema, "to"));
            Weight(Property(schema, "weight"));
            Text(Property(schema, "relation"), 1, RequestRules.MaxRelationLength);
        }
        else if (type == typeof(EventRequest))
        {
            Event(schema);
        }
        else if (type == typeof(GroupRequest))
        {
            Group(schema);
        }
        else if (type == typeof(GroupMemberRequest))
        {
            // The generator visits a type before what it contains: by now Group has made the members' items an anyOf
            // of an id and this object, and this visit is of that anyOf.
            var member = schema.AnyOf?.OfType<OpenApiSchema>().SingleOrDefault(s => s.Properties is { Count: > 0 }) ?? schema;
            EntityId(Property(member, "entity"));
            Weight(Property(member, "weight"));
        }
        else if (type == typeof(AlertRuleRequest))
        {
            AlertRule(schema);
        }
        else if (type == typeof(RescoreRequest))
        {
            var version = Property(schema, "version");
            version.MinLength = 1;
            var limit = Property(schema, "limit");
            limit.Minimum = Number(1);
            limit.Maximum = Number(services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ImpactOptions>>().Value.Query.MaxLimit);
        }
        else if (type == typeof(ModelRequest))
        {
            Model(schema);
        }
        else if (type == typeof(ModelTypeRequest))
        {
            // Unknown fields are refused, so that a misspelt parameter never silently keeps its old value.
            schema.AdditionalPropertiesAllowed = false;
            var severity = Property(schema, "severity");
            severity.Type = JsonSchemaType.Number;
            severity.Minimum = Number(ScoringModelJson.MinWeight);
            Property(schema, "halfLife").Type = JsonSchemaType.String;
        }
    }

    private static void Entity(OpenApiSchema schema)
    {
        Text(Property(schema, "name"), 1, RequestRules.MaxNameLength);
        Enumeration(Property(schema, "kind"), Enum.GetValues<EntityKind>().Select(k => k.WireName()));
        var tags = Property(schema, "tags");
        tags.MaxItems = RequestRules.MaxTags;
        tags.Items = Text(new OpenApiSchema { Type = JsonSchemaType.String }, 1, RequestRules.MaxTagLength);
    }

    private static void Event(OpenApiSchema schema)
    {
        Text(Property(schema, "id"), 1, EventJson.MaxIdLength);
        EntityId(Property(schema, "entity"));
        Enumeration(Property(schema, "type"), EventTypes.All.Select(t => t.WireName()));

        // Any case, as the endpoint takes it (and stores upper case): a case-insensitive pattern over the same list.
        var region = Property(schema, "region");
        region.Type = JsonSchemaType.String;
        region.Pattern = Regions.CaseInsensitivePattern;

        var confidence = Property(schema, "confidence");
        confidence.Minimum = Number(EventJson.MinConfidence);
        confidence.Maximum = Number(EventJson.MaxConfidence);

        var source = Property(schema, "source");
        source.MaxLength = EventJson.MaxSourceLength;
        source.Pattern = RequestRules.NoControlCharactersPattern;

        // The type's own fields; an event whose type needs none may leave it out, but null is not taken for the others.
        Property(schema, "data").Type = JsonSchemaType.Object;

        // Each type's fields, as an if/then per type: a field of another type is ignored, as the endpoint ignores it.
        schema.AllOf = EventTypes.All.Select(type => (IOpenApiSchema)new OpenApiSchema
        {
            If = new OpenApiSchema
            {
                Required = new HashSet<string> { "type" },
                Properties = new Dictionary<string, IOpenApiSchema> { ["type"] = Enumeration(new OpenApiSchema { Type = JsonSchemaType.String }, [type.WireName()]) },
            },
            Then = new OpenApiSchema { Properties = new Dictionary<string, IOpenApiSchema> { ["data"] = EventData(type) } },
        }).ToList();
    }

    /// <summary>The data fields of one event type, with the bounds <see cref="EventJson"/> reads them within.</summary>
    private static OpenApiSchema EventData(EventType type)
    {
        var fields = new Dictionary<string, IOpenApiSchema>();
        var required = new HashSet<string>();
        void Field(string name, OpenApiSchema field, bool isRequired = false)
        {
            fields[name] = field;
            if (isRequired)
            {
                required.Add(name);
            }
        }

        OpenApiSchema Range(JsonSchemaType kind, double min, double max) => new() { Type = kind, Minimum = Number(min), Maximum = Number(max) };
        OpenApiSchema Count(double max) => Range(JsonSchemaType.Integer, 0, max);
        OpenApiSchema Amount(double min, double max) => Range(JsonSchemaType.Number, min, max);
        OpenApiSchema Words(int max) => new() { Type = JsonSchemaType.String, MaxLength = max, Pattern = RequestRules.NoControlCharactersPattern };

        string? description = null;
        string[] atLeastOne = [];
        switch (type)
        {
            case EventType.Outage:
                Field("reports", Count(EventJson.MaxCount), isRequired: true);
                Field("baselineReports", Count(EventJson.MaxCount));
                Field("durationMinutes", Amount(0, EventJson.MaxDurationMinutes));
                break;
            case EventType.Cyberattack:
                Field("claimed", new OpenApiSchema { Type = JsonSchemaType.Boolean });
                Field("attribution", Words(EventJson.MaxShortTextLength));
                break;
            case EventType.Protest:
                Field("participants", Count(EventJson.MaxCount));
                Field("locations", Count(EventJson.MaxLocations));
                description = "At least one of participants and locations.";
                atLeastOne = ["participants", "locations"];
                break;
            case EventType.SalesChange:
                Field("percent", Amount(EventJson.MinPercent, EventJson.MaxPercent), isRequired: true);
                Field("units", Count(EventJson.MaxCount));
                Field("period", Words(EventJson.MaxShortTextLength));
                break;
            case EventType.StockChange:
                Field("percent", Amount(EventJson.MinPercent, EventJson.MaxPercent), isRequired: true);
                Field("closePrice", Amount(0, EventJson.MaxMoney));
                break;
            case EventType.NetWorthChange:
                Field("deltaUsd", Amount(-EventJson.MaxMoney, EventJson.MaxMoney), isRequired: true);
                Field("netWorthUsd", Amount(0, EventJson.MaxMoney));
                break;
            case EventType.ProductFailure or EventType.Statement:
                Field("severity", Enumeration(new OpenApiSchema { Type = JsonSchemaType.String }, Enum.GetValues<Severity>().Select(s => s.WireName())), isRequired: true);
                Field("description", Words(EventJson.MaxTextLength));
                break;
            case EventType.Incident:
                Field("status", Enumeration(new OpenApiSchema { Type = JsonSchemaType.String }, [EventJson.IncidentDetected, EventJson.IncidentResolved]), isRequired: true);
                Field("reports", Count(EventJson.MaxCount), isRequired: true);
                Field("baselineMean", Amount(0, EventJson.MaxCount), isRequired: true);
                Field("baselineStdDev", Amount(0, EventJson.MaxCount), isRequired: true);
                Field("zScore", Amount(-EventJson.MaxCount, EventJson.MaxCount), isRequired: true);
                Field("peakReports", Count(EventJson.MaxCount));
                Field("startedAt", new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" }, isRequired: true);
                break;
        }

        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = description,
            Properties = fields,
            Required = required,
            // "At least one of these fields", machine-readably: any one of the schemas that each require one of them.
            AnyOf = atLeastOne.Length == 0 ? null : atLeastOne.Select(f => (IOpenApiSchema)new OpenApiSchema { Required = new HashSet<string> { f } }).ToList(),
        };
    }

    private static void Group(OpenApiSchema schema)
    {
        Text(Property(schema, "name"), 1, RequestRules.MaxNameLength);
        Enumeration(Property(schema, "method"), Enum.GetValues<GroupMethod>().Select(m => m.WireName()));
        var members = Property(schema, "members");
        members.MinItems = 1;
        members.MaxItems = RequestRules.MaxGroupMembers;
        // A member is an entity id (weight 1) or an object with its entity and weight.
        members.Items = new OpenApiSchema { AnyOf = [EntityId(new OpenApiSchema()), members.Items!] };
    }

    private static void AlertRule(OpenApiSchema schema)
    {
        Text(Property(schema, "target"), 1, RequestRules.MaxTargetLength, RequestRules.TargetPattern);
        Enumeration(Property(schema, "metric"), AlertMetrics.All);

        // The threshold's range depends on the metric: one if/then per range, with the same range in words.
        var ranges = AlertMetrics.All.GroupBy(AlertsEndpoints.ThresholdRange).ToList();
        Property(schema, "threshold").Description = "By metric: " + string.Join("; ", ranges
            .Select(g => $"{string.Join(", ", g)} from {Format(g.Key.Min)} to {Format(g.Key.Max)}")) + ".";
        schema.AllOf = ranges.Select(g => (IOpenApiSchema)new OpenApiSchema
        {
            If = new OpenApiSchema
            {
                Required = new HashSet<string> { "metric" },
                Properties = new Dictionary<string, IOpenApiSchema> { ["metric"] = Enumeration(new OpenApiSchema { Type = JsonSchemaType.String }, g) },
            },
            Then = new OpenApiSchema
            {
                Properties = new Dictionary<string, IOpenApiSchema> { ["threshold"] = new OpenApiSchema { Minimum = Number(g.Key.Min), Maximum = Number(g.Key.Max) } },
            },
        }).ToList();

        Property(schema, "coolDown").Format = "duration";
        var webhook = Property(schema, "webhook");
        webhook.Format = "uri";
        webhook.MaxLength = RequestRules.MaxWebhookLength;
        webhook.Pattern = "^https?://";
        Text(Property(schema, "secret"), RequestRules.MinSecretLength, RequestRules.MaxSecretLength);
    }

    private static void Model(OpenApiSchema schema)
    {
        schema.AdditionalPropertiesAllowed = false;
        var version = Property(schema, "version");
        version.Pattern = ScoringModelJson.VersionPattern;
        version.MaxLength = ScoringModelJson.MaxVersionLength;

        foreach (var range in ScoringModelJson.ScalarRanges)
        {
            // null is not a value of a parameter: leave it out to keep model v1's.
            var parameter = Property(schema, range.Name);
            parameter.Type = JsonSchemaType.Number;
            if (range.MinimumExclusive)
            {
                parameter.ExclusiveMinimum = Number(range.Minimum);
            }
            else
            {
                parameter.Minimum = Number(range.Minimum);
            }

            parameter.Maximum = range.Maximum is { } maximum ? Number(maximum) : null;
        }

        var types = Property(schema, "types");
        types.Type = JsonSchemaType.Object;
        types.PropertyNames = Enumeration(new OpenApiSchema { Type = JsonSchemaType.String }, EventTypes.All.Select(t => t.WireName()));

        var magnitudes = Property(schema, "severityMagnitudes");
        magnitudes.Type = JsonSchemaType.Object;
        magnitudes.PropertyNames = Enumeration(new OpenApiSchema { Type = JsonSchemaType.String }, Enum.GetValues<Severity>().Select(s => s.WireName()));
        magnitudes.AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double", Minimum = Number(ScoringModelJson.MinWeight) };
    }

    private static OpenApiSchema Property(OpenApiSchema schema, string name) =>
        schema.Properties is { } properties && properties.TryGetValue(name, out var property) && property is OpenApiSchema inline
            ? inline
            : throw new InvalidOperationException($"the request schema has no inline property '{name}' ({string.Join(",", schema.Properties?.Select(p => p.Key + ":" + p.Value.GetType().Name) ?? [])})");

    private static OpenApiSchema Text(OpenApiSchema schema, int minLength, int maxLength, string pattern = RequestRules.NoControlCharactersPattern)
    {
        schema.MinLength = minLength;
        schema.MaxLength = maxLength;
        schema.Pattern = pattern;
        return schema;
    }

    private static OpenApiSchema EntityId(OpenApiSchema schema)
    {
        schema.Type = JsonSchemaType.String;
        return Text(schema, 1, EntityIds.MaxLength, EntityIds.Pattern);
    }

    private static void Weight(OpenApiSchema schema)
    {
        schema.ExclusiveMinimum = Number(RequestRules.MinWeightExclusive);
        schema.Maximum = Number(RequestRules.MaxWeight);
    }

    private static OpenApiSchema Enumeration(OpenApiSchema schema, IEnumerable<string> values)
    {
        schema.Enum = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList();
        return schema;
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
