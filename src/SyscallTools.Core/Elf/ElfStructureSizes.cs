namespace SyscallTools.Core.Elf;

/// <summary>Sizes in bytes of the fixed ELF structures, per class (gABI, "Data Representation").</summary>
internal static class ElfStructureSizes
{
    /// <summary>e_ident: magic, class, data, version, OS ABI, padding.</summary>
    public const int EI_NIDENT = 16;

    public const int Elf32_Ehdr = 52, Elf32_Phdr = 32, Elf32_Shdr = 40, Elf32_Sym = 16, Elf32_Dyn = 8;
    public const int Elf64_Ehdr = 64, Elf64_Phdr = 56, Elf64_Shdr = 64, Elf64_Sym = 24, Elf64_Dyn = 16;

    public static int Ehdr(ElfClass c) => c == ElfClass.ELFCLASS64 ? Elf64_Ehdr : Elf32_Ehdr;
    public static int Phdr(ElfClass c) => c == ElfClass.ELFCLASS64 ? Elf64_Phdr : Elf32_Phdr;
    public static int Shdr(ElfClass c) => c == ElfClass.ELFCLASS64 ? Elf64_Shdr : Elf32_Shdr;
    public static int Sym(ElfClass c) => c == ElfClass.ELFCLASS64 ? Elf64_Sym : Elf32_Sym;
    public static int Dyn(ElfClass c) => c == ElfClass.ELFCLASS64 ? Elf64_Dyn : Elf32_Dyn;

    public static string Name(ElfClass c, string structure) => (c == ElfClass.ELFCLASS64 ? "Elf64_" : "Elf32_") + structure;
}
