using System.Text.Json;

namespace ImpactGrains.Storage;

/// <summary>How group members are stored: a JSON array of {"entity", "weight"}.</summary>
internal static class GroupMembersJson
{
    private sealed record Member(string Entity, double Weight);

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string Write(IReadOnlyList<GroupMember> members) =>
        JsonSerializer.Serialize(members.Select(m => new Member(m.Entity, m.Weight)), Options);

    public static IReadOnlyList<GroupMember> Read(string json) =>
        (JsonSerializer.Deserialize<Member[]>(json, Options) ?? []).Select(m => new GroupMember(m.Entity, m.Weight)).ToList();
}
