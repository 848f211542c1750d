namespace ImpactGrains.Server.Hosting;

/// <summary>Fixed texts for the viewer's static files.</summary>
internal static class ViewerPages
{
    /// <summary>The viewer loads only its own script and styles and talks only to this origin's API.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    /// <summary>Served at / when the build could not bundle the viewer (Node.js and npm were missing).</summary>
    public const string NotBuilt = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>ImpactGrains</title></head>
        <body><main><h1>ImpactGrains</h1>
        <p>The impact viewer was not built: building the server needs Node.js and npm to bundle it
        (src/ImpactGrains.Viewer). The HTTP API works: try <a href="/api/leaderboard">/api/leaderboard</a>.</p>
        </main></body></html>
        """;
}
