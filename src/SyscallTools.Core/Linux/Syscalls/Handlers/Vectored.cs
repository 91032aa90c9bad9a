namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>readv writev: struct iovec arrays of the ABI's width (two 32-bit words on i386, two 64-bit on x86-64).</summary>
internal static class Vectored
{
    private const int UioMaxiov = 1024;

    private static long ReadVector(SyscallContext c, out (ulong Base, ulong Len)[] iov)
    {
        iov = [];
        int count = c.ArgInt(2);
        if (count < 0 || count > UioMaxiov) return -Errno.EINVAL;
        int w = c.Abi == SyscallAbi.I386 ? 4 : 8;
        var raw = new byte[count * 2 * w];
        if (!c.ReadUser(c.Arg(1), raw)) return -Errno.EFAULT;
        iov = new (ulong, ulong)[count];
        ulong total = 0;
        for (int i = 0; i < count; i++)
        {
            iov[i] = (UserWords.Get(raw, 2 * w * i, w), UserWords.Get(raw, 2 * w * i + w, w));
            // "if (len < 0) return -EINVAL" after the sum is capped at MAX_RW_COUNT: a length with the sign bit is invalid.
            if ((long)iov[i].Len < 0 || (w == 4 && iov[i].Len > int.MaxValue)) return -Errno.EINVAL;
            total += iov[i].Len;
        }
        return (long)Math.Min(total, 1UL << 20);
    }

    public static long Writev(SyscallContext c)
    {
        if (!c.Task.Files.TryGetValue(c.ArgInt(0), out var f)) return -Errno.EBADF;
        long total = ReadVector(c, out var iov);
        if (total < 0) return total;
        var all = new byte[total];
        int at = 0;
        foreach (var (b, len) in iov)
        {
            int n = (int)Math.Min(len, (ulong)(all.Length - at));
            if (n == 0) continue;
            if (!c.ReadUser(b, all.AsSpan(at, n))) return -Errno.EFAULT;
            at += n;
        }
        return f.Write(all);
    }

    public static long Readv(SyscallContext c)
    {
        if (!c.Task.Files.TryGetValue(c.ArgInt(0), out var f)) return -Errno.EBADF;
        long total = ReadVector(c, out var iov);
        if (total < 0) return total;
        long done = 0;
        foreach (var (b, len) in iov)
        {
            if (len == 0) continue;
            var buf = new byte[Math.Min(len, (ulong)(total - done))];
            if (buf.Length == 0) break;
            long n = f.Read(buf);
            if (n < 0) return done > 0 ? done : n;
            if (!c.WriteUser(b, buf.AsSpan(0, (int)n))) return done > 0 ? done : -Errno.EFAULT;
            done += n;
            if (n < buf.Length) break;
        }
        return done;
    }
}
