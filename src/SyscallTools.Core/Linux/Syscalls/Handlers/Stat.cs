using SyscallTools.Core.Linux.Files;

namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>
/// fstat, fstat64, newfstatat, fstatat64 and statx on the virtual descriptors and files, each writing its own
/// structure: x86-64 struct stat (144 bytes), i386 struct stat64 (96 bytes), struct statx (256 bytes).
/// </summary>
internal static class Stat
{
    private const int AtEmptyPath = 0x1000, AtSymlinkNofollow = 0x100, AtNoAutomount = 0x800;
    private const uint StatxBasicStats = 0x7FF;

    /// <summary>What a (dirfd, path, flags) names: AT_EMPTY_PATH with "" is the descriptor itself.</summary>
    private static long Resolve(SyscallContext c, int dirfd, ulong pathAddress, int flags, out VirtualStat stat)
    {
        stat = null!;
        string? path = c.ReadUserString(pathAddress);
        if (path is null) return -Errno.EFAULT;
        if (path.Length == 0)
        {
            if ((flags & AtEmptyPath) == 0) return -Errno.ENOENT;
            if (dirfd == FilesCalls.AtFdcwd) { stat = c.Task.FileSystem.DirectoryStat("/"); return 0; }
            if (!c.Task.Files.TryGetValue(dirfd, out var f)) return -Errno.EBADF;
            stat = f.Stat;
            return 0;
        }
        long r = FilesCalls.Lookup(c, dirfd, path, out string full);
        if (r < 0) return r;
        var fs = c.Task.FileSystem;
        if (fs.Find(full) is FileNode node) { stat = node.Stat; return 0; }
        if (fs.IsDirectory(full)) { stat = fs.DirectoryStat(full); return 0; }
        return -Errno.ENOENT;
    }

    public static long Fstat(SyscallContext c)
    {
        if (!c.Task.Files.TryGetValue(c.ArgInt(0), out var f)) return -Errno.EBADF;
        return c.WriteUser(c.Arg(1), c.Abi == SyscallAbi.I386 ? OldStat32(f.Stat, c.Task) : Stat64Of(f.Stat, c.Task)) ? 0 : -Errno.EFAULT;
    }

    /// <summary>i386 fstat64 (nr 197).</summary>
    public static long Fstat64(SyscallContext c)
    {
        if (!c.Task.Files.TryGetValue(c.ArgInt(0), out var f)) return -Errno.EBADF;
        return c.WriteUser(c.Arg(1), Stat64I386(f.Stat, c.Task)) ? 0 : -Errno.EFAULT;
    }

    /// <summary>x86-64 newfstatat (nr 262).</summary>
    public static long Newfstatat(SyscallContext c)
    {
        if ((c.ArgInt(3) & ~(AtSymlinkNofollow | AtNoAutomount | AtEmptyPath)) != 0) return -Errno.EINVAL;
        long r = Resolve(c, c.ArgInt(0), c.Arg(1), c.ArgInt(3), out var st);
        if (r < 0) return r;
        return c.WriteUser(c.Arg(2), Stat64Of(st, c.Task)) ? 0 : -Errno.EFAULT;
    }

    /// <summary>i386 fstatat64 (nr 300).</summary>
    public static long Fstatat64(SyscallContext c)
    {
        if ((c.ArgInt(3) & ~(AtSymlinkNofollow | AtNoAutomount | AtEmptyPath)) != 0) return -Errno.EINVAL;
        long r = Resolve(c, c.ArgInt(0), c.Arg(1), c.ArgInt(3), out var st);
        if (r < 0) return r;
        return c.WriteUser(c.Arg(2), Stat64I386(st, c.Task)) ? 0 : -Errno.EFAULT;
    }

    /// <summary>statx(dirfd, path, flags, mask, buf): the basic fields whatever the mask asks (stx_mask says so).</summary>
    public static long Statx(SyscallContext c)
    {
        // AT_STATX_SYNC_TYPE (0x6000) may be set; other unknown flags are -EINVAL (vfs_statx's check).
        if ((c.ArgInt(2) & ~(AtSymlinkNofollow | AtNoAutomount | AtEmptyPath | 0x6000)) != 0) return -Errno.EINVAL;
        long r = Resolve(c, c.ArgInt(0), c.Arg(1), c.ArgInt(2), out var st);
        if (r < 0) return r;
        var b = new byte[256];
        BitConverter.TryWriteBytes(b.AsSpan(0), StatxBasicStats);
        BitConverter.TryWriteBytes(b.AsSpan(4), (uint)VirtualStat.BlockSize);
        BitConverter.TryWriteBytes(b.AsSpan(16), 1u);                          // stx_nlink
        BitConverter.TryWriteBytes(b.AsSpan(20), (uint)c.Task.Uid);
        BitConverter.TryWriteBytes(b.AsSpan(24), (uint)c.Task.Gid);
        BitConverter.TryWriteBytes(b.AsSpan(28), (ushort)st.Mode);
        BitConverter.TryWriteBytes(b.AsSpan(32), st.Inode);
        BitConverter.TryWriteBytes(b.AsSpan(40), (ulong)st.Size);
        BitConverter.TryWriteBytes(b.AsSpan(48), (ulong)st.Blocks);
        BitConverter.TryWriteBytes(b.AsSpan(128), (uint)(st.RDevice >> 8));     // stx_rdev_major, _minor
        BitConverter.TryWriteBytes(b.AsSpan(132), (uint)(st.RDevice & 0xFF));
        BitConverter.TryWriteBytes(b.AsSpan(136), (uint)(st.Device >> 8));      // stx_dev_major, _minor
        BitConverter.TryWriteBytes(b.AsSpan(140), (uint)(st.Device & 0xFF));
        return c.WriteUser(c.Arg(4), b) ? 0 : -Errno.EFAULT;
    }

    /// <summary>x86-64 struct stat: dev, ino, nlink (u64), mode, uid, gid (u32), pad, rdev, size, blksize, blocks, times.</summary>
    private static byte[] Stat64Of(VirtualStat st, LinuxTask task)
    {
        var b = new byte[144];
        BitConverter.TryWriteBytes(b.AsSpan(0), st.Device);
        BitConverter.TryWriteBytes(b.AsSpan(8), st.Inode);
        BitConverter.TryWriteBytes(b.AsSpan(16), 1UL);
        BitConverter.TryWriteBytes(b.AsSpan(24), st.Mode);
        BitConverter.TryWriteBytes(b.AsSpan(28), (uint)task.Uid);
        BitConverter.TryWriteBytes(b.AsSpan(32), (uint)task.Gid);
        BitConverter.TryWriteBytes(b.AsSpan(40), st.RDevice);
        BitConverter.TryWriteBytes(b.AsSpan(48), st.Size);
        BitConverter.TryWriteBytes(b.AsSpan(56), (long)VirtualStat.BlockSize);
        BitConverter.TryWriteBytes(b.AsSpan(64), st.Blocks);
        return b;
    }

    /// <summary>i386 struct stat64: dev (u64), pad, __st_ino (u32), mode, nlink, uid, gid, rdev (u64), pad, size (s64),
    /// blksize (u32), blocks (u64), three time pairs, st_ino (u64).</summary>
    private static byte[] Stat64I386(VirtualStat st, LinuxTask task)
    {
        var b = new byte[96];
        BitConverter.TryWriteBytes(b.AsSpan(0), st.Device);
        BitConverter.TryWriteBytes(b.AsSpan(12), (uint)st.Inode);
        BitConverter.TryWriteBytes(b.AsSpan(16), st.Mode);
        BitConverter.TryWriteBytes(b.AsSpan(20), 1u);
        BitConverter.TryWriteBytes(b.AsSpan(24), (uint)task.Uid);
        BitConverter.TryWriteBytes(b.AsSpan(28), (uint)task.Gid);
        BitConverter.TryWriteBytes(b.AsSpan(32), st.RDevice);
        BitConverter.TryWriteBytes(b.AsSpan(44), st.Size);
        BitConverter.TryWriteBytes(b.AsSpan(52), (uint)VirtualStat.BlockSize);
        BitConverter.TryWriteBytes(b.AsSpan(56), (ulong)st.Blocks);
        BitConverter.TryWriteBytes(b.AsSpan(88), st.Inode);
        return b;
    }

    /// <summary>i386 fstat (nr 108, struct stat with 16-bit-era layout: dev u32, ino u32, mode u16, nlink u16, uid u16,
    /// gid u16, rdev u32, size u32, blksize, blocks, times); a size past 2 GiB is -EOVERFLOW in the kernel.</summary>
    private static byte[] OldStat32(VirtualStat st, LinuxTask task)
    {
        var b = new byte[64];
        BitConverter.TryWriteBytes(b.AsSpan(0), (uint)st.Device);
        BitConverter.TryWriteBytes(b.AsSpan(4), (uint)st.Inode);
        BitConverter.TryWriteBytes(b.AsSpan(8), (ushort)st.Mode);
        BitConverter.TryWriteBytes(b.AsSpan(10), (ushort)1);
        BitConverter.TryWriteBytes(b.AsSpan(12), (ushort)task.Uid);
        BitConverter.TryWriteBytes(b.AsSpan(14), (ushort)task.Gid);
        BitConverter.TryWriteBytes(b.AsSpan(16), (uint)st.RDevice);
        BitConverter.TryWriteBytes(b.AsSpan(20), (uint)st.Size);
        BitConverter.TryWriteBytes(b.AsSpan(24), (uint)VirtualStat.BlockSize);
        BitConverter.TryWriteBytes(b.AsSpan(28), (uint)st.Blocks);
        return b;
    }
}
