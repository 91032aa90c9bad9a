namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>getrlimit (old and ugetrlimit on i386), prlimit64: the task's virtual resource limits.</summary>
internal static class Limits
{
    public const int RlimNlimits = 16;
    private const ulong RlimInfinity = ulong.MaxValue;
    public const int RlimitNofile = 7;
    private const int RlimitStack = 3, RlimitCore = 4, RlimitNproc = 6, RlimitMemlock = 8,
        RlimitSigpending = 11, RlimitMsgqueue = 12, RlimitRtprio = 14;

    /// <summary>
    /// get_unused_fd_flags → alloc_fd: the lowest free descriptor at or above <paramref name="from"/>, or -EMFILE when
    /// it would reach RLIMIT_NOFILE (every call that makes a descriptor goes through here).
    /// </summary>
    public static int UnusedFd(LinuxTask t, int from = 0)
    {
        int fd = from;
        while (t.Files.ContainsKey(fd)) fd++;
        return (ulong)fd >= t.Limits[RlimitNofile].Cur ? -Errno.EMFILE : fd;
    }

    /// <summary>INIT_RLIMITS (include/asm-generic/resource.h) with the values a login shell usually sees: an 8 MiB
    /// stack, no core files, 1024 descriptors.</summary>
    public static (ulong Cur, ulong Max)[] Defaults()
    {
        var l = Enumerable.Repeat((RlimInfinity, RlimInfinity), RlimNlimits).ToArray();
        l[RlimitStack] = (8UL << 20, RlimInfinity);
        l[RlimitCore] = (0, RlimInfinity);
        l[RlimitNproc] = (63_000, 63_000);
        l[RlimitNofile] = (1024, 1_048_576);
        l[RlimitMemlock] = (8UL << 20, 8UL << 20);
        l[RlimitSigpending] = (63_000, 63_000);
        l[RlimitMsgqueue] = (819_200, 819_200);
        l[13] = (0, 0);   // RLIMIT_NICE
        l[RlimitRtprio] = (0, 0);
        return l;
    }

    /// <summary>x86-64 getrlimit(2): struct rlimit of two unsigned longs.</summary>
    public static long Getrlimit(SyscallContext c) => Put(c, c.ArgInt(0), c.Arg(1), v => v, 8);

    /// <summary>i386 ugetrlimit (compat_sys_getrlimit): values above 32 bits read as COMPAT_RLIM_INFINITY.</summary>
    public static long Ugetrlimit(SyscallContext c) => Put(c, c.ArgInt(0), c.Arg(1), v => Math.Min(v, 0xFFFF_FFFFUL), 4);

    /// <summary>i386 getrlimit, nr 76 (compat_sys_old_getrlimit): infinity reads as COMPAT_RLIM_OLD_INFINITY, 0x7fffffff.</summary>
    public static long OldGetrlimit(SyscallContext c) => Put(c, c.ArgInt(0), c.Arg(1), v => Math.Min(v, 0x7FFF_FFFFUL), 4);

    private static long Put(SyscallContext c, int resource, ulong to, Func<ulong, ulong> narrow, int word)
    {
        if ((uint)resource >= RlimNlimits) return -Errno.EINVAL;
        var (cur, max) = c.Task.Limits[resource];
        var b = new byte[2 * word];
        UserWords.Put(b, 0, narrow(cur), word);
        UserWords.Put(b, word, narrow(max), word);
        return c.WriteUser(to, b) ? 0 : -Errno.EFAULT;
    }

    /// <summary>
    /// prlimit64(pid, resource, new, old): struct rlimit64 on both ABIs. Only the task itself (pid 0 or its own);
    /// cur above max is -EINVAL and raising max needs CAP_SYS_RESOURCE, which the unprivileged task lacks.
    /// </summary>
    public static long Prlimit64(SyscallContext c)
    {
        int pid = c.ArgInt(0), resource = c.ArgInt(1);
        if (pid != 0 && pid != c.Task.Pid) return -Errno.ESRCH;
        if ((uint)resource >= RlimNlimits) return -Errno.EINVAL;
        (ulong Cur, ulong Max)? next = null;
        if (c.Arg(2) != 0)
        {
            Span<byte> b = stackalloc byte[16];
            if (!c.ReadUser(c.Arg(2), b)) return -Errno.EFAULT;
            ulong cur = BitConverter.ToUInt64(b), max = BitConverter.ToUInt64(b[8..]);
            if (cur > max) return -Errno.EINVAL;
            if (max > c.Task.Limits[resource].Max) return -Errno.EPERM;
            next = (cur, max);
        }
        if (c.Arg(3) != 0)
        {
            var (cur, max) = c.Task.Limits[resource];
            var b = new byte[16];
            BitConverter.TryWriteBytes(b, cur);
            BitConverter.TryWriteBytes(b.AsSpan(8), max);
            if (!c.WriteUser(c.Arg(3), b)) return -Errno.EFAULT;
        }
        if (next is { } n) c.Task.Limits[resource] = n;
        return 0;
    }
}
