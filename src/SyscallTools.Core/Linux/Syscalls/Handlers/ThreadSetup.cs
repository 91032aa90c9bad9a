namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>set_tid_address set_robust_list: what libc registers for its one thread at start-up (kernel/fork.c, futex).</summary>
internal static class ThreadSetup
{
    /// <summary>set_tid_address(2): remembers clear_child_tid (cleared and futex-woken at exit; no other thread
    /// waits in the model) and returns the caller's thread id.</summary>
    public static long SetTidAddress(SyscallContext c)
    {
        c.Task.ClearChildTid = c.Arg(0);
        return c.Task.Tid;
    }

    /// <summary>set_robust_list(2): the length must be sizeof(struct robust_list_head) for the ABI — 12 bytes for
    /// compat_robust_list_head (three 32-bit words), 24 for the 64-bit one — else -EINVAL.</summary>
    public static long SetRobustList(SyscallContext c)
    {
        ulong expected = c.Abi == SyscallAbi.I386 ? 12UL : 24UL;
        if (c.Arg(1) != expected) return -Errno.EINVAL;
        c.Task.RobustListHead = c.Arg(0);
        return 0;
    }
}
