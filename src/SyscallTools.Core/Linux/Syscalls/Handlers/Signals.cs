using static SyscallTools.Core.Linux.UserWords;

namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>rt_sigaction rt_sigprocmask kill tgkill: the bookkeeping; delivery is the kernel model's.</summary>
internal static class Signals
{
    public const int NSig = 64;
    private const int SigKill = 9, SigStop = 19;

    /// <summary>rt_sigaction(sig, act, oact, sigsetsize): struct sigaction is handler, flags, restorer, mask in the ABI's word size.</summary>
    public static long RtSigaction(SyscallContext c)
    {
        int sig = c.ArgInt(0);
        if (sig < 1 || sig > NSig || c.Arg(3) != 8) return -Errno.EINVAL;
        int w = c.Task.Bitness == 32 ? 4 : 8;
        var state = c.Machine.SignalState;
        if (c.Arg(2) != 0)
        {
            var old = state.Actions[sig];
            var buf = new byte[3 * w + 8];
            Put(buf, 0, old.Handler, w);
            Put(buf, w, old.Flags, w);
            Put(buf, 2 * w, old.Restorer, w);
            BitConverter.TryWriteBytes(buf.AsSpan(3 * w), old.Mask);
            if (!c.WriteUser(c.Arg(2), buf)) return -Errno.EFAULT;
        }
        if (c.Arg(1) != 0)
        {
            if (sig is SigKill or SigStop) return -Errno.EINVAL;
            var buf = new byte[3 * w + 8];
            if (!c.ReadUser(c.Arg(1), buf)) return -Errno.EFAULT;
            state.Actions[sig] = new SignalAction(Get(buf, 0, w), Get(buf, w, w), Get(buf, 2 * w, w),
                BitConverter.ToUInt64(buf, 3 * w) & ~SignalState.Unblockable);
        }
        return 0;
    }

    /// <summary>
    /// sigaction(sig, act, oact) (i386 nr 67; compat_sys_sigaction on a 64-bit kernel): struct old_sigaction is
    /// {sa_handler, sa_mask (old_sigset_t, 32 bits), sa_flags, sa_restorer}, four 32-bit words — a different order
    /// from rt_sigaction's. The new mask is the old one widened (siginitset).
    /// </summary>
    public static long Sigaction(SyscallContext c)
    {
        int sig = c.ArgInt(0);
        var state = c.Machine.SignalState;
        if (sig < 1 || sig > NSig || (c.Arg(1) != 0 && sig is SigKill or SigStop)) return -Errno.EINVAL;
        SignalAction? next = null;
        if (c.Arg(1) != 0)
        {
            var buf = new byte[16];
            if (!c.ReadUser(c.Arg(1), buf)) return -Errno.EFAULT;
            next = new SignalAction(BitConverter.ToUInt32(buf, 0), BitConverter.ToUInt32(buf, 8), BitConverter.ToUInt32(buf, 12),
                BitConverter.ToUInt32(buf, 4) & ~SignalState.Unblockable);
        }
        var old = state.Actions[sig];
        if (next is not null) state.Actions[sig] = next;
        if (c.Arg(2) != 0)
        {
            var buf = new byte[16];
            Put(buf, 0, old.Handler, 4);
            Put(buf, 4, (uint)old.Mask, 4);
            Put(buf, 8, old.Flags, 4);
            Put(buf, 12, old.Restorer, 4);
            if (!c.WriteUser(c.Arg(2), buf)) return -Errno.EFAULT;
        }
        return 0;
    }

    private const int SigBlock = 0, SigUnblock = 1, SigSetmask = 2;

    public static long RtSigprocmask(SyscallContext c)
    {
        if (c.Arg(3) != 8) return -Errno.EINVAL;
        var state = c.Machine.SignalState;
        ulong old = state.Blocked;
        if (c.Arg(1) != 0)
        {
            Span<byte> set = stackalloc byte[8];
            if (!c.ReadUser(c.Arg(1), set)) return -Errno.EFAULT;
            ulong v = BitConverter.ToUInt64(set) & ~SignalState.Unblockable;
            switch (c.ArgInt(0))
            {
                case SigBlock: state.Blocked |= v; break;
                case SigUnblock: state.Blocked &= ~v; break;
                case SigSetmask: state.Blocked = v; break;
                default: return -Errno.EINVAL;
            }
            c.Machine.RecalcSigPending();
        }
        if (c.Arg(2) != 0 && !c.WriteUserUInt64(c.Arg(2), old)) return -Errno.EFAULT;
        return 0;
    }

    /// <summary>kill(2) to the task itself (the only process in the model); other pids: -ESRCH.</summary>
    public static long Kill(SyscallContext c)
    {
        int pid = c.ArgInt(0), sig = c.ArgInt(1);
        if (sig < 0 || sig > NSig) return -Errno.EINVAL;
        if (pid != c.Task.Pid && pid != 0 && pid != -1) return -Errno.ESRCH;
        if (sig != 0) c.Machine.SendSignal(sig);
        return 0;
    }

    public static long Tgkill(SyscallContext c)
    {
        int sig = c.ArgInt(2);
        if (c.ArgInt(0) <= 0 || c.ArgInt(1) <= 0 || sig < 0 || sig > NSig) return -Errno.EINVAL;
        if (c.ArgInt(0) != c.Task.Pid || c.ArgInt(1) != c.Task.Tid) return -Errno.ESRCH;
        if (sig != 0) c.Machine.SendSignal(sig);
        return 0;
    }
}
