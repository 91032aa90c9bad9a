namespace SyscallTools.Core.Linux;

/// <summary>How user code enters the kernel for a system call.</summary>
public enum EntryMethod
{
    /// <summary>`int $0x80`, open-coded.</summary>
    Int80,
    /// <summary>A raw SYSENTER sequence outside the vDSO (`push ecx; push edx; push ebp; mov ebp, esp; sysenter`), as some Android builds inlined.</summary>
    Sysenter,
    /// <summary>SYSCALL: the native 64-bit instruction, or for 32-bit tasks a raw `push ecx; push edx; push ebp; mov ebp, ecx; syscall`.</summary>
    Syscall,
    /// <summary>`call *AT_SYSINFO`: __kernel_vsyscall in the vDSO, which picks SYSENTER, SYSCALL or INT 0x80.</summary>
    Vdso,
}
