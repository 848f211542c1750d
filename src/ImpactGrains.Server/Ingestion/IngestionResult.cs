namespace ImpactGrains.Server.Ingestion;

/// <param name="Index">The event's 0-based position in the body (for NDJSON, among its non-blank lines).</param>
public sealed record RejectedEvent(int Index, string? Id, string Error);

/// <summary>The answer to POST /api/events, sent only once the accepted events are committed.</summary>
public sealed record IngestionResult(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected);
