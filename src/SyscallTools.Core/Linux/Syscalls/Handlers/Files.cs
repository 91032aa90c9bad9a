using System.Text;
using SyscallTools.Core.Linux.Files;

namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>open openat readlink readlinkat lseek _llseek on the task's virtual file system.</summary>
internal static class FilesCalls
{
    public const int AtFdcwd = -100;
    private const int OAccmode = 3, OWronly = 1, ORdwr = 2, OCreat = 0x40, OExcl = 0x80, OTrunc = 0x200, OAppend = 0x400,
        ODirectory = 0x10000;
    private const int PathMax = 4096;

    /// <summary>Resolves a path relative to a directory descriptor (AT_FDCWD is "/") to an absolute one.</summary>
    internal static long Lookup(SyscallContext c, int dirfd, string path, out string full)
    {
        full = "";
        if (path.Length >= PathMax) return -Errno.ENAMETOOLONG;
        string cwd = "/";
        if (!path.StartsWith('/') && dirfd != AtFdcwd)
        {
            if (!c.Task.Files.TryGetValue(dirfd, out var d)) return -Errno.EBADF;
            if (d is not DirectoryFile dir) return -Errno.ENOTDIR;
            cwd = dir.Path;
        }
        full = VirtualFileSystem.Normalize(path, cwd) ?? "";
        return full.Length == 0 ? -Errno.ENOENT : 0;
    }

    public static long Open(SyscallContext c) => DoOpen(c, AtFdcwd, c.Arg(0), c.ArgInt(1));

    public static long Openat(SyscallContext c) => DoOpen(c, c.ArgInt(0), c.Arg(1), c.ArgInt(2));

    private static long DoOpen(SyscallContext c, int dirfd, ulong pathAddress, int flags)
    {
        string? path = c.ReadUserString(pathAddress, PathMax + 1);
        if (path is null) return -Errno.EFAULT;
        if (path.Length == 0) return -Errno.ENOENT;
        long r = Lookup(c, dirfd, path, out string full);
        if (r < 0) return r;
        var fs = c.Task.FileSystem;
        int access = flags & OAccmode;
        bool write = access is OWronly or ORdwr;
        VirtualFile file;
        if (fs.IsDirectory(full))
        {
            // may_open: a directory opens only for reading (EISDIR otherwise).
            if (write || (flags & OCreat) != 0) return -Errno.EISDIR;
            file = new DirectoryFile(full, fs.DirectoryStat(full));
        }
        else
        {
            var node = fs.Find(full);
            if (node is not null && (flags & (OCreat | OExcl)) == (OCreat | OExcl)) return -Errno.EEXIST;
            if ((flags & ODirectory) != 0) return node is null ? -Errno.ENOENT : -Errno.ENOTDIR;
            if (node is null)
            {
                if ((flags & OCreat) == 0) return -Errno.ENOENT;
                string? parent = VirtualFileSystem.Parent(full);
                if (parent is null || !fs.IsDirectory(parent)) return fs.Find(parent ?? "/") is null ? -Errno.ENOENT : -Errno.ENOTDIR;
                node = fs.Create(full);
            }
            if ((flags & OTrunc) != 0 && write) node.Contents.Clear();
            file = new RegularFile(node, canRead: access != OWronly, canWrite: write, append: (flags & OAppend) != 0);
        }
        int fd = Limits.UnusedFd(c.Task);
        if (fd < 0) return fd;
        c.Task.Files[fd] = file;
        return fd;
    }

    public static long Readlink(SyscallContext c) => DoReadlink(c, AtFdcwd, c.Arg(0), c.Arg(1), c.ArgInt(2));

    public static long Readlinkat(SyscallContext c) => DoReadlink(c, c.ArgInt(0), c.Arg(1), c.Arg(2), c.ArgInt(3));

    /// <summary>
    /// readlink: the one symbolic link in the model is /proc/self/exe (and /proc/&lt;pid&gt;/exe), naming the virtual
    /// path the program was exec'd as. The result is not NUL-terminated and is cut at bufsiz.
    /// </summary>
    private static long DoReadlink(SyscallContext c, int dirfd, ulong pathAddress, ulong buf, int size)
    {
        string? path = c.ReadUserString(pathAddress, PathMax + 1);
        if (path is null) return -Errno.EFAULT;
        if (size <= 0) return -Errno.EINVAL;
        if (path.Length == 0) return -Errno.ENOENT;
        long r = Lookup(c, dirfd, path, out string full);
        if (r < 0) return r;
        if (full == "/proc/self/exe" || full == $"/proc/{c.Task.Pid}/exe")
        {
            if (c.Task.ExecPath is null) return -Errno.ENOENT;
            var target = Encoding.UTF8.GetBytes(c.Task.ExecPath);
            int n = Math.Min(size, target.Length);
            return c.WriteUser(buf, target.AsSpan(0, n)) ? n : -Errno.EFAULT;
        }
        var fs = c.Task.FileSystem;
        return fs.Find(full) is not null || fs.IsDirectory(full) ? -Errno.EINVAL : -Errno.ENOENT;
    }

    /// <summary>lseek(fd, offset, whence): the offset is a long of the ABI (32-bit for i386).</summary>
    public static long Lseek(SyscallContext c)
    {
        if (!c.Task.Files.TryGetValue(c.ArgInt(0), out var f)) return -Errno.EBADF;
        long offset = c.Abi == SyscallAbi.I386 ? c.ArgInt(1) : (long)c.Arg(1);
        long r = f.Seek(offset, c.ArgInt(2));
        // A 32-bit lseek cannot return a position past 2 GiB: -EOVERFLOW (the file position is still moved).
        if (c.Abi == SyscallAbi.I386 && r > int.MaxValue) return -Errno.EOVERFLOW;
        return r;
    }

    /// <summary>i386 _llseek(fd, offset_high, offset_low, result, whence): the 64-bit position goes to *result.</summary>
    public static long Llseek(SyscallContext c)
    {
        if (!c.Task.Files.TryGetValue(c.ArgInt(0), out var f)) return -Errno.EBADF;
        long offset = (long)((c.Arg(1) << 32) | (uint)c.Arg(2));
        long r = f.Seek(offset, c.ArgInt(4));
        if (r < 0) return r;
        return c.WriteUserUInt64(c.Arg(3), (ulong)r) ? 0 : -Errno.EFAULT;
    }
}
