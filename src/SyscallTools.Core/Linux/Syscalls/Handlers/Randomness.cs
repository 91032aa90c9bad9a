namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>getrandom(2) from the machine's deterministic generator: the same run gives the same bytes.</summary>
internal static class Randomness
{
    private const uint GrndNonblock = 1, GrndRandom = 2, GrndInsecure = 4;

    public static long Getrandom(SyscallContext c)
    {
        uint flags = (uint)c.Arg(2);
        // "if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) return -EINVAL; ... if ((flags & (GRND_INSECURE |
        // GRND_RANDOM)) == (GRND_INSECURE | GRND_RANDOM)) return -EINVAL;" (drivers/char/random.c)
        if ((flags & ~(GrndNonblock | GrndRandom | GrndInsecure)) != 0) return -Errno.EINVAL;
        if ((flags & (GrndInsecure | GrndRandom)) == (GrndInsecure | GrndRandom)) return -Errno.EINVAL;
        // "if (len > INT_MAX) len = INT_MAX"; the model also caps one call at 1 MiB, a short read the caller must accept.
        int n = (int)Math.Min(c.Arg(1), 1UL << 20);
        var bytes = c.Machine.RandomBytes(n);
        return c.WriteUser(c.Arg(0), bytes) ? n : -Errno.EFAULT;
    }
}
