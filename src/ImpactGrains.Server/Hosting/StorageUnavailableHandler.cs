using System.Data.Common;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Diagnostics;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// Answers 503 with Retry-After, as problem+json, when the store cannot be reached: nothing of the request was
/// stored, and the client may send it again once the database is back.
/// </summary>
internal sealed class StorageUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsStorageFailure(exception))
        {
            return false;
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var writes = !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Storage unavailable",
                Detail = writes
                    ? $"the database cannot be reached; nothing from this request was stored, retry after {RetryAfterSeconds} seconds"
                    : $"the database cannot be reached; retry after {RetryAfterSeconds} seconds",
            },
        });
    }

    /// <summary>A storage failure here or inside a grain.</summary>
    public static bool IsStorageFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is EventLogUnavailableException or DbException)
            {
                return true;
            }

            // An exception thrown inside a grain may arrive as Orleans' stand-in when its type cannot be rebuilt.
            if (e.GetType().FullName?.StartsWith("Npgsql.", StringComparison.Ordinal) == true ||
                e.Message.Contains("Npgsql.", StringComparison.Ordinal))
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsStorageFailure))
            {
                return true;
            }
        }

        return false;
    }
}
