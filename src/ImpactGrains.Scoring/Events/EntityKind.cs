namespace ImpactGrains.Scoring.Events;

public enum EntityKind : byte
{
    Company,
    Person,
    Organization,
    Product,
}

public static class EntityKinds
{
    public static string WireName(this EntityKind kind) => kind switch
    {
        EntityKind.Company => "company",
        EntityKind.Person => "person",
        EntityKind.Organization => "organization",
        EntityKind.Product => "product",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string? name, out EntityKind kind) => WireNames.TryParse(name, WireName, out kind);
}
