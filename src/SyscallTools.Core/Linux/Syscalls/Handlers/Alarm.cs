namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>alarm(2) on the virtual clock (kernel/time/itimer.c alarm_setitimer).</summary>
internal static class Alarm
{
    private const ulong NsPerSec = 1_000_000_000;

    /// <summary>Arms (or with 0 disarms) SIGALRM in <c>seconds</c>; returns the seconds left of the previous alarm,
    /// rounded to the nearest second, and 1 rather than 0 when one was still pending ("we can't return 0 if we have
    /// an alarm pending ...").</summary>
    public static long SetAlarm(SyscallContext c)
    {
        uint seconds = (uint)c.Arg(0);
        ulong now = c.Machine.VirtualNowNs;
        long left = 0;
        if (c.Task.AlarmAtNs is ulong at && at > now)
        {
            ulong rem = at - now;
            left = (long)(rem / NsPerSec + (rem % NsPerSec >= NsPerSec / 2 ? 1UL : 0UL));
            if (left == 0) left = 1;
        }
        c.Task.AlarmAtNs = seconds == 0 ? null : now + seconds * NsPerSec;
        return left;
    }
}
