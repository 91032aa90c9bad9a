namespace SyscallTools.Core.Linux.Files;

/// <summary>An open regular file of the virtual file system: a position, the access mode, O_APPEND.</summary>
public sealed class RegularFile(FileNode node, bool canRead, bool canWrite, bool append) : VirtualFile
{
    private long _position;

    public FileNode Node => node;

    public override long Read(Span<byte> buffer)
    {
        if (!canRead) return -Errno.EBADF;
        int n = (int)Math.Max(0, Math.Min(buffer.Length, node.Contents.Count - _position));
        for (int i = 0; i < n; i++) buffer[i] = node.Contents[(int)_position + i];
        _position += n;
        return n;
    }

    public override long Write(ReadOnlySpan<byte> data)
    {
        if (!canWrite) return -Errno.EBADF;
        if (append) _position = node.Contents.Count;
        // A write past the end leaves a hole of zeros, as on a real file.
        while (node.Contents.Count < _position) node.Contents.Add(0);
        for (int i = 0; i < data.Length; i++)
        {
            long at = _position + i;
            if (at < node.Contents.Count) node.Contents[(int)at] = data[i]; else node.Contents.Add(data[i]);
        }
        _position += data.Length;
        return data.Length;
    }

    public override VirtualStat Stat => node.Stat;

    /// <summary>generic_file_llseek: SEEK_SET, SEEK_CUR, SEEK_END; a negative result is -EINVAL.</summary>
    public override long Seek(long offset, int whence)
    {
        long from = whence switch { 0 => 0, 1 => _position, 2 => node.Contents.Count, _ => long.MinValue };
        if (from == long.MinValue) return -Errno.EINVAL;
        long to = from + offset;
        if (to < 0) return -Errno.EINVAL;
        return _position = to;
    }
}

/// <summary>An open directory (O_DIRECTORY or a read-only open of one): it can be stat'ed and used as a dirfd, not read.</summary>
public sealed class DirectoryFile(string path, VirtualStat stat) : VirtualFile
{
    public string Path => path;
    public override long Read(Span<byte> buffer) => -Errno.EISDIR;
    public override long Write(ReadOnlySpan<byte> data) => -Errno.EBADF;
    public override VirtualStat Stat => stat;
}
