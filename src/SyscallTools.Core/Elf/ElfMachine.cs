namespace SyscallTools.Core.Elf;

/// <summary>e_machine: the instruction set. Only the two this project runs are named; others read as numbers.</summary>
public enum ElfMachine : ushort
{
    EM_NONE = 0,
    /// <summary>Intel 80386 and its 32-bit successors (i386 ABI).</summary>
    EM_386 = 3,
    /// <summary>AMD x86-64.</summary>
    EM_X86_64 = 62,
}
