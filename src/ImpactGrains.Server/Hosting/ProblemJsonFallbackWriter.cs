namespace ImpactGrains.Server.Hosting;

/// <summary>
/// Every error is application/problem+json, whatever the request's <c>Accept</c> header says. ASP.NET Core's own
/// problem details writer declines when <c>Accept</c> names neither JSON nor <c>*/*</c> (<c>Accept: text/html</c>), and
/// the status-code pages (404 for an unknown route, 405, 415) then fell back to a plain-text body. Registered after the
/// default writer, this one is asked only when it declined, and has it write the same JSON anyway.
/// </summary>
internal sealed class ProblemJsonFallbackWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var writer = context.HttpContext.RequestServices.GetServices<IProblemDetailsWriter>().First(w => w is not ProblemJsonFallbackWriter);
        return writer.WriteAsync(context);
    }
}
