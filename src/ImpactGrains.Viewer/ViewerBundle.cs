namespace ImpactGrains.Viewer;

/// <summary>Where the bundled viewer lies for the application that references this project.</summary>
public static class ViewerBundle
{
    /// <summary>The folder next to the application's assembly that Viewer.targets copies the bundle to.</summary>
    public const string FolderName = "viewer";

    /// <summary>The bundle's folder (index.html, assets/, favicon), in the running application's output.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, FolderName);
}
