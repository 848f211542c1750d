using System.Reflection;

namespace ImpactGrains.Storage;

/// <summary>Reads the SQL scripts embedded in this assembly.</summary>
internal static class SqlScripts
{
    private static readonly Assembly Assembly = typeof(SqlScripts).Assembly;

    /// <summary>Scripts under a folder of Sql/, as (file name, text), ordered by name.</summary>
    public static IReadOnlyList<(string Name, string Text)> In(string folder)
    {
        var prefix = $"{Assembly.GetName().Name}.Sql.{folder}.";
        return Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => (n[prefix.Length..], Read(n)))
            .ToList();
    }

    private static string Read(string resource)
    {
        using var stream = Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"missing embedded script {resource}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
