namespace SyscallTools.Core.Linux.Syscalls;

/// <summary>The two system-call ABIs: numbers and argument registers differ (arch/x86/entry/syscalls/*.tbl).</summary>
public enum SyscallAbi : byte
{
    /// <summary>i386: eax = nr; ebx, ecx, edx, esi, edi, ebp = args.</summary>
    I386,
    /// <summary>x86-64: rax = nr; rdi, rsi, rdx, r10, r8, r9 = args.</summary>
    X86_64,
}
