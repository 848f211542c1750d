namespace ImpactGrains.Storage;

/// <summary>The log could not commit or read: nothing of the failed operation was stored, and it may be retried.</summary>
public sealed class EventLogUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
