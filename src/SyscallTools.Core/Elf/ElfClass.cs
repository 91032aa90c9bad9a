namespace SyscallTools.Core.Elf;

/// <summary>e_ident[EI_CLASS]: the word size of the file's structures (gABI "ELF Identification").</summary>
public enum ElfClass : byte
{
    ELFCLASSNONE = 0,
    /// <summary>32-bit objects: Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr, Elf32_Sym.</summary>
    ELFCLASS32 = 1,
    /// <summary>64-bit objects: Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr, Elf64_Sym.</summary>
    ELFCLASS64 = 2,
}
