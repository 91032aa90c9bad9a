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
        ulong ns = (ulong)sec * 1_000_000_000UL + (ulong)nsec;
        if (c.Machine.SignalPending)
        {
            // hrtimer_nanosleep(): the restart block (hrtimer_nanosleep_restart) sleeps out the rest if the call is
            // restarted through restart_syscall (no handler ran). Nothing of the sleep has elapsed in virtual time.
            c.Machine.RestartBlock = rc =>
            {
                if (rc.Machine.SignalPending) return -Errno.ERESTART_RESTARTBLOCK;
                rc.Machine.RestartBlock = null;
                rc.Task.VirtualTimeNs += ns;
                return 0;
            };
            return -Errno.ERESTART_RESTARTBLOCK;
        }
        c.Task.VirtualTimeNs += ns;
        return 0;
    }

    /// <summary>pause(2): sleeps until a signal arrives; with none pending the single task would sleep forever.</summary>
    public static long Pause(SyscallContext c)
    {
        if (c.Machine.WaitForSignal()) return -Errno.ERESTARTNOHAND;
        c.Machine.Block("pause() with no signal pending and no alarm: the task sleeps forever");
        return -Errno.ERESTARTNOHAND;
    }

    /// <summary>
    /// pselect6(2). Virtual files never block: every open descriptor in the read and write sets is ready, the
    /// exception set comes back empty. With no descriptors it is a virtual sleep (NULL timeout = forever).
    /// </summary>
    public static long Pselect6(SyscallContext c)
    {
        int n = c.ArgInt(0);
        if (n < 0 || n > 1024) return -Errno.EINVAL;
        if (c.Arg(1) != 0 || c.Arg(2) != 0 || c.Arg(3) != 0)
        {
            int bytes = (n + 7) / 8;
            long ready = 0;
            foreach (int set in new[] { 1, 2, 3 })
            {
                if (c.Arg(set) == 0) continue;
                var bits = new byte[bytes];
                if (!c.ReadUser(c.Arg(set), bits)) return -Errno.EFAULT;
                for (int fd = 0; fd < n; fd++)
                {
                    bool isSet = (bits[fd / 8] & (1 << (fd % 8))) != 0;
                    if (!isSet) continue;
                    if (!c.Task.Files.ContainsKey(fd)) return -Errno.EBADF;
                    if (set == 3) bits[fd / 8] &= (byte)~(1 << (fd % 8)); else ready++;
                }
                if (!c.WriteUser(c.Arg(set), bits)) return -Errno.EFAULT;
            }
            return ready;
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
