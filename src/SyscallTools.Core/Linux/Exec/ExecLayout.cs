namespace SyscallTools.Core.Linux.Exec;

/// <summary>Where exec put things, for the run result and for tests that check the kernel's rules.</summary>
public sealed record ExecLayout
{
    /// <summary>0 for ET_EXEC; where an ET_DYN (static-PIE) image was placed, less its first p_vaddr page.</summary>
    public required ulong LoadBias { get; init; }
    public required ulong Entry { get; init; }
    /// <summary>AT_PHDR: the program headers as mapped.</summary>
    public required ulong Phdr { get; init; }
    /// <summary>mm->start_brk: ELF_PAGEALIGN of the end of the highest segment (set_brk).</summary>
    public required ulong BrkStart { get; init; }
    /// <summary>STACK_TOP for the task: 0xFFFFE000 for ia32 on a 64-bit kernel, PAGE_OFFSET on a 32-bit one, 0x7ffffffff000 for x86-64.</summary>
    public required ulong StackTop { get; init; }
    public required InitialStack Stack { get; init; }
}
