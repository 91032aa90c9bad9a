namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>
/// clock_gettime (and i386's clock_gettime64), gettimeofday, time on the machine's virtual clock: the monotonic time
/// is <see cref="LinuxMachine.VirtualNowNs"/>; the wall clock adds a fixed epoch. Nothing reads the host's clock.
/// </summary>
internal static class Clock
{
    /// <summary>CLOCK_REALTIME at boot: 2026-01-01T00:00:00Z.</summary>
    public const long BootEpochSeconds = 1_767_225_600;
    private const ulong NsPerSec = 1_000_000_000;

    private static (long Sec, long Nsec) Read(SyscallContext c, int clock)
    {
        ulong now = c.Machine.VirtualNowNs;
        long sec = (long)(now / NsPerSec), nsec = (long)(now % NsPerSec);
        // CLOCK_REALTIME(_COARSE) and CLOCK_TAI count from the epoch; the others from boot.
        if (clock is 0 or 5 or 11) sec += BootEpochSeconds + (clock == 11 ? 37 : 0);
        return (sec, nsec);
    }

    /// <summary>The clocks posix_get_clock ... accept: REALTIME, MONOTONIC, the CPU-time clocks of the caller,
    /// MONOTONIC_RAW, the coarse ones, BOOTTIME, TAI. Others (alarm clocks, other processes' CPU clocks) are -EINVAL.</summary>
    private static bool Valid(int clock) => clock is >= 0 and <= 7 or 11;

    /// <summary>clock_gettime with the ABI's struct timespec: two longs (32-bit for i386's nr 265).</summary>
    public static long ClockGettime(SyscallContext c) => Put(c, c.ArgInt(0), c.Arg(1), c.Abi == SyscallAbi.I386 ? 4 : 8);

    /// <summary>i386 clock_gettime64 (nr 403): struct __kernel_timespec, two 64-bit fields.</summary>
    public static long ClockGettime64(SyscallContext c) => Put(c, c.ArgInt(0), c.Arg(1), 8);

    private static long Put(SyscallContext c, int clock, ulong to, int word)
    {
        if (!Valid(clock)) return -Errno.EINVAL;
        var (sec, nsec) = Read(c, clock);
        return c.WriteUser(to, Pair(sec, nsec, word)) ? 0 : -Errno.EFAULT;
    }

    /// <summary>gettimeofday(tv, tz): a timeval (seconds, microseconds) and a zero timezone.</summary>
    public static long Gettimeofday(SyscallContext c)
    {
        int word = c.Abi == SyscallAbi.I386 ? 4 : 8;
        if (c.Arg(0) != 0)
        {
            var (sec, nsec) = Read(c, 0);
            if (!c.WriteUser(c.Arg(0), Pair(sec, nsec / 1000, word))) return -Errno.EFAULT;
        }
        if (c.Arg(1) != 0 && !c.WriteUser(c.Arg(1), new byte[8])) return -Errno.EFAULT;
        return 0;
    }

    /// <summary>time(tloc): the seconds, also stored at tloc when it is not NULL (a 32-bit time_t for i386).</summary>
    public static long Time(SyscallContext c)
    {
        long sec = Read(c, 0).Sec;
        if (c.Arg(0) != 0)
        {
            byte[] b = c.Abi == SyscallAbi.I386 ? BitConverter.GetBytes((int)sec) : BitConverter.GetBytes(sec);
            if (!c.WriteUser(c.Arg(0), b)) return -Errno.EFAULT;
        }
        return sec;
    }

    private static byte[] Pair(long a, long b, int word)
    {
        var buf = new byte[2 * word];
        UserWords.Put(buf, 0, (ulong)a, word);
        UserWords.Put(buf, word, (ulong)b, word);
        return buf;
    }
}
