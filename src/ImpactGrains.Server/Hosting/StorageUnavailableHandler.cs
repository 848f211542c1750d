using System.Data.Common;
using ImpactGrains.Storage;
using Microsoft.AspNetCore.Diagnostics;

namespace ImpactGrains.Server.Hosting;

/// <summary>
/// Answers 503 with Retry-After, as problem+json, when the store cannot be reached: nothing of the request was
/// stored, and the client may send it again once the database is back. Also when a grain cannot be reached because
/// its silo has just failed: until the cluster declares that silo dead (a second or two), calls to the grains it held
/// are rejected, and then the grains come back on the survivors.
/// </summary>
internal sealed class StorageUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    /// <summary>Failure detection takes about two seconds with the tuned membership options.</summary>
    public const int SiloFailoverRetryAfterSeconds = 2;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        string title, detail;
        int retryAfter;
        if (IsStorageFailure(exception))
        {
            var writes = !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);
            (title, retryAfter) = ("Storage unavailable", RetryAfterSeconds);
            detail = writes
                ? $"the database cannot be reached; nothing from this request was stored, retry after {RetryAfterSeconds} seconds"
                : $"the database cannot be reached; retry after {RetryAfterSeconds} seconds";
        }
        else if (IsSiloUnavailable(exception))
        {
            (title, retryAfter) = ("Entity temporarily unavailable", SiloFailoverRetryAfterSeconds);
            detail = $"the silo that holds this entity cannot be reached; the cluster is moving it to another silo, retry after {SiloFailoverRetryAfterSeconds} seconds";
        }
        else
        {
            return false;
        }

        OperationsMetrics.Unavailable.Add(1, new KeyValuePair<string, object?>("reason", retryAfter == RetryAfterSeconds ? "storage" : "silo"));
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = title,
                Detail = detail,
            },
        });
    }

    /// <summary>A grain call that the runtime rejected because the grain's silo cannot be reached (see <see cref="Orleans.Runtime.SiloUnavailableException"/>).</summary>
    public static bool IsSiloUnavailable(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is Orleans.Runtime.OrleansMessageRejectionException)
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsSiloUnavailable))
            {
                return true;
            }
        }

        return false;
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
