namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>nanosleep pause pselect6 restart_syscall, on virtual time: nothing ever waits on the host.</summary>
internal static class Time
{
    /// <summary>nanosleep(2): advances virtual time by the request; interrupted by a pending signal.</summary>
    public static long Nanosleep(SyscallContext c)
    {
        Span<byte> ts = stackalloc byte[16];
        int word = c.Task.Bitness == 32 ? 4 : 8;
        if (!c.ReadUser(c.Arg(0), ts[..(2 * word)])) return -Errno.EFAULT;
        long sec = word == 4 ? BitConverter.ToInt32(ts) : BitConverter.ToInt64(ts);
        long nsec = word == 4 ? BitConverter.ToInt32(ts[4..]) : BitConverter.ToInt64(ts[8..]);
        if (sec < 0 || nsec is < 0 or > 999_999_999) return -Errno.EINVAL;
        if (c.Machine.SignalPending) return -Errno.ERESTART_RESTARTBLOCK;
        c.Task.VirtualTimeNs += (ulong)sec * 1_000_000_000UL + (ulong)nsec;
        return 0;
    }

    /// <summary>pause(2): sleeps until a signal arrives; with none pending the single task would sleep forever.</summary>
    public static long Pause(SyscallContext c)
    {
        if (c.Machine.SignalPending) return -Errno.ERESTARTNOHAND;
        c.Machine.Block("pause() with no signal pending: the task sleeps forever");
        return -Errno.ERESTARTNOHAND;
    }

    /// <summary>pselect6(2) with no descriptors: a virtual sleep for the timeout (NULL timeout = forever).</summary>
    public static long Pselect6(SyscallContext c)
    {
        if (c.Arg(1) != 0 || c.Arg(2) != 0 || c.Arg(3) != 0)
        {
            // Descriptor sets: every virtual file is always ready, so report nothing more than the count asked.
            return -Errno.EINVAL;
        }
        if (c.Arg(4) == 0)
        {
            if (c.Machine.SignalPending) return -Errno.ERESTARTNOHAND;
            c.Machine.Block("pselect6() with no descriptors and no timeout: the task sleeps forever");
            return -Errno.ERESTARTNOHAND;
        }
        return Nanosleep(new SyscallContext(c.Machine, c.Abi, c.Number, [c.Arg(4), 0, 0, 0, 0, 0], c.Regs));
    }

    /// <summary>restart_syscall(2) with no restart block set up: do_no_restart_syscall returns -EINTR.</summary>
    public static long RestartSyscall(SyscallContext c) => c.Machine.RestartBlock?.Invoke(c) ?? -Errno.EINTR;
}
