namespace SyscallTools;

/// <summary>Which exit policy a what-if evaluates: the three ways the kernel decides how to return.</summary>
public enum ExitEntry
{
    /// <summary>After a native 64-bit SYSCALL: SYSRETQ or IRET (do_syscall_64).</summary>
    Syscall64,
    /// <summary>After a fast 32-bit entry (SYSENTER or 32-bit SYSCALL): SYSRETL/SYSEXIT or IRET (do_fast_syscall_32).</summary>
    Fast32,
    /// <summary>After int $0x80: always IRET.</summary>
    Int80,
}
