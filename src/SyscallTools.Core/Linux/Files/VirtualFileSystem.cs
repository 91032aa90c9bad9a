namespace SyscallTools.Core.Linux.Files;

/// <summary>
/// The task's file system: a few files held in memory, which the user fills before a run and reads after it. Paths
/// are absolute after resolution (the working directory is "/"); directories exist where a file lies below them, and
/// "/" and "/tmp" always exist. Nothing here reaches the host's files.
/// </summary>
public sealed class VirtualFileSystem
{
    private readonly Dictionary<string, FileNode> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal) { "/", "/tmp" };
    private ulong _nextInode = 100;

    /// <summary>Every file by path.</summary>
    public IReadOnlyDictionary<string, FileNode> Files => _files;

    /// <summary>Adds (or replaces) a file with the given contents; its directories come into being.</summary>
    public FileNode Add(string path, byte[] contents)
    {
        string p = Normalize(path) ?? throw new ArgumentException($"'{path}' is not a usable path.", nameof(path));
        if (p == "/" || _directories.Contains(p)) throw new ArgumentException($"'{path}' is a directory.", nameof(path));
        for (string? d = Parent(p); d is not null; d = Parent(d)) _directories.Add(d);
        var node = new FileNode(_nextInode++, contents);
        _files[p] = node;
        return node;
    }

    public FileNode? Find(string path) => _files.GetValueOrDefault(path);

    public bool IsDirectory(string path) => _directories.Contains(path);

    /// <summary>The contents of a file as the task left it, or null.</summary>
    public byte[]? Read(string path) => Normalize(path) is string p && _files.TryGetValue(p, out var f) ? f.Contents.ToArray() : null;

    /// <summary>Creates an empty file in an existing directory (open with O_CREAT).</summary>
    internal FileNode Create(string path)
    {
        var node = new FileNode(_nextInode++, []);
        _files[path] = node;
        return node;
    }

    /// <summary>A directory's stat. Its inode number comes from the path's bytes (FNV-1a), not string.GetHashCode(),
    /// which .NET randomises per process: a run must repeat exactly.</summary>
    public VirtualStat DirectoryStat(string path)
    {
        uint h = 2166136261;
        foreach (char ch in path) h = (h ^ ch) * 16777619;
        return new(VirtualStat.S_IFDIR | 0x1ED, 4096, (ulong)(h & 0xFFFF) + 2, 0x801);
    }

    /// <summary>The parent directory of an absolute path ("/" has none).</summary>
    public static string? Parent(string path)
    {
        if (path == "/") return null;
        int i = path.LastIndexOf('/');
        return i <= 0 ? "/" : path[..i];
    }

    /// <summary>Resolves a path against <paramref name="cwd"/>: "." and ".." and repeated slashes go. Null for "".</summary>
    public static string? Normalize(string path, string cwd = "/")
    {
        if (path.Length == 0) return null;
        var parts = new List<string>();
        foreach (var part in (path.StartsWith('/') ? path : cwd + "/" + path).Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }
}

/// <summary>One regular file's bytes and inode number, shared by every descriptor open on it.</summary>
public sealed class FileNode(ulong inode, byte[] contents)
{
    public ulong Inode { get; } = inode;
    public List<byte> Contents { get; } = new(contents);
    public VirtualStat Stat => new(VirtualStat.S_IFREG | 0x1A4, Contents.Count, Inode, 0x801);
}
