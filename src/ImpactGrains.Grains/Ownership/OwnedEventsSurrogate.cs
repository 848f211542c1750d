using System.Buffers;
using System.Runtime.InteropServices;
using ImpactGrains.Abstractions;
using ImpactGrains.Scoring.Events;
using ImpactGrains.Storage;

namespace ImpactGrains.Grains.Ownership;

/// <summary>
/// How a request's events travel to their owning silo: all of them in one array, each entity's id once and each body in
/// the log's own encoding (<see cref="EventCodec"/>), instead of a serialized object with four fields and an array
/// per event (a tenth of a 2-silo cluster's CPU, docs/scaling.md). Never persisted.
/// </summary>
[GenerateSerializer]
public struct OwnedEventsSurrogate
{
    [Id(0)] public byte[] Body;
}

[RegisterConverter]
public sealed class OwnedEventsConverter : IConverter<OwnedEvents, OwnedEventsSurrogate>
{
    private const byte Format = 1;

    public OwnedEventsSurrogate ConvertToSurrogate(in OwnedEvents value)
    {
        var events = value.Events;
        var entities = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            ref var index = ref CollectionsMarshal.GetValueRefOrAddDefault(entities, e.Entity, out var known);
            if (!known)
            {
                index = entities.Count - 1;
            }
        }

        using var stream = new MemoryStream(16 + events.Count * 96);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Format);
            writer.Write7BitEncodedInt(entities.Count);
            foreach (var entity in entities.Keys)
            {
                writer.Write(entity);
            }

            writer.Write7BitEncodedInt(events.Count);
            var body = new ArrayBufferWriter<byte>(64);
            foreach (var e in events)
            {
                body.ResetWrittenCount();
                EventCodec.Write(body, e);
                writer.Write7BitEncodedInt(entities[e.Entity]);
                writer.Write(e.Id);
                writer.Write(e.OccurredAt.UtcTicks);
                writer.Write7BitEncodedInt(body.WrittenCount);
                writer.Write(body.WrittenSpan);
            }
        }

        return new OwnedEventsSurrogate { Body = stream.ToArray() };
    }

    public OwnedEvents ConvertFromSurrogate(in OwnedEventsSurrogate surrogate)
    {
        var bytes = surrogate.Body;
        using var stream = new MemoryStream(bytes, writable: false);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8);
        var format = reader.ReadByte();
        if (format != Format)
        {
            throw new InvalidDataException($"owned events: unknown format {format}");
        }

        var entities = new string[reader.Read7BitEncodedInt()];
        for (var i = 0; i < entities.Length; i++)
        {
            entities[i] = reader.ReadString();
        }

        var events = new ImpactEvent[reader.Read7BitEncodedInt()];
        for (var i = 0; i < events.Length; i++)
        {
            var entity = entities[reader.Read7BitEncodedInt()];
            var id = reader.ReadString();
            var ticks = reader.ReadInt64();
            var length = reader.Read7BitEncodedInt();
            var start = (int)stream.Position;
            if (length < 0 || start + length > bytes.Length)
            {
                throw new EndOfStreamException($"owned events: event {id} runs past the end of the batch");
            }

            events[i] = EventCodec.Decode(id, entity, ticks, bytes.AsSpan(start, length));
            stream.Position = start + length;
        }

        return new OwnedEvents(events);
    }
}
