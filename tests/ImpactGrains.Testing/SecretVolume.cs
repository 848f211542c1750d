namespace ImpactGrains.Testing;

/// <summary>
/// A directory laid out the way the kubelet mounts a Secret and updates it in place: the files live in a timestamped
/// folder (<c>..2026_01_02_03_04_05.000000001</c>), <c>..data</c> links to that folder, and each key is a link
/// <c>NAME -> ..data/NAME</c>. An update writes a new folder, points a new link at it and renames that over
/// <c>..data</c> (one atomic step), then adds the links of new keys, removes those of removed keys and deletes the old
/// folder, as Kubernetes' AtomicWriter does.
/// </summary>
public sealed class SecretVolume
{
    private int generation;

    private SecretVolume(string path) => Path = path;

    public string Path { get; }

    /// <summary>The Secret's data as mounted now.</summary>
    public IReadOnlyDictionary<string, string> Data { get; private set; } = new Dictionary<string, string>();

    public static SecretVolume Create(string path, IReadOnlyDictionary<string, string> data)
    {
        Directory.CreateDirectory(path);
        var volume = new SecretVolume(path);
        volume.Update(data);
        return volume;
    }

    /// <summary>Replaces the whole content, as an edited Secret reaches the pod.</summary>
    public void Update(IReadOnlyDictionary<string, string> data)
    {
        var folder = $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss}.{++generation:D9}";
        var folderPath = System.IO.Path.Combine(Path, folder);
        Directory.CreateDirectory(folderPath);
        foreach (var (name, value) in data)
        {
            File.WriteAllText(System.IO.Path.Combine(folderPath, name), value);
        }

        var dataLink = System.IO.Path.Combine(Path, "..data");
        var previous = Directory.Exists(dataLink) ? new DirectoryInfo(dataLink).LinkTarget : null;
        var temporary = System.IO.Path.Combine(Path, "..data_tmp");
        File.Delete(temporary);
        File.CreateSymbolicLink(temporary, folder);
        Rename(temporary, dataLink);

        foreach (var name in data.Keys.Where(n => !Data.ContainsKey(n)))
        {
            File.CreateSymbolicLink(System.IO.Path.Combine(Path, name), System.IO.Path.Combine("..data", name));
        }

        foreach (var name in Data.Keys.Where(n => !data.ContainsKey(n)))
        {
            File.Delete(System.IO.Path.Combine(Path, name));
        }

        if (previous is not null)
        {
            Directory.Delete(System.IO.Path.Combine(Path, previous), recursive: true);
        }

        Data = new Dictionary<string, string>(data);
    }

    /// <summary>rename(2), which replaces a link atomically (File.Move does not move a link to a folder).</summary>
    private static void Rename(string from, string to)
    {
        if (RenameNative(from, to) != 0)
        {
            throw new IOException($"rename {from} {to} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int RenameNative(string from, string to);

    /// <summary>The data with these entries added or replaced.</summary>
    public void Set(params (string Name, string Value)[] entries)
    {
        var data = new Dictionary<string, string>(Data);
        foreach (var (name, value) in entries)
        {
            data[name] = value;
        }

        Update(data);
    }

    /// <summary>The data without these entries.</summary>
    public void Remove(params string[] names) => Update(Data.Where(p => !names.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value));
}
