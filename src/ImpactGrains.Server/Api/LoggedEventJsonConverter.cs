using System.Text.Json;
using System.Text.Json.Serialization;
using ImpactGrains.Scoring.Validation;
using ImpactGrains.Storage;

namespace ImpactGrains.Server.Api;

/// <summary>Writes a logged event in its normalised JSON form, with its entity sequence.</summary>
internal sealed class LoggedEventJsonConverter : JsonConverter<LoggedEvent>
{
    public override LoggedEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("logged events are only written");

    public override void Write(Utf8JsonWriter writer, LoggedEvent value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("sequence", value.EntitySequence);
        EventJson.WriteProperties(writer, value.Event);
        writer.WriteEndObject();
    }
}
