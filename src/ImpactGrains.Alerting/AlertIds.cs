using System.Security.Cryptography;

namespace ImpactGrains.Alerting;

/// <summary>Ids of rules, deliveries and leases: a prefix that says what the id names, then random hex.</summary>
public static class AlertIds
{
    /// <summary>A new random id with the prefix, such as <c>rule-3f9a0c1d2e4b5a69</c>.</summary>
    public static string New(string prefix) => $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
}
