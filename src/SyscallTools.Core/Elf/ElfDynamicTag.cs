namespace SyscallTools.Core.Elf;

/// <summary>d_tag of an Elf32_Dyn / Elf64_Dyn entry in .dynamic.</summary>
public enum ElfDynamicTag : long
{
    /// <summary>Ends the array.</summary>
    DT_NULL = 0,
    DT_NEEDED = 1,
    DT_PLTRELSZ = 2,
    DT_PLTGOT = 3,
    /// <summary>Address of the SysV hash table.</summary>
    DT_HASH = 4,
    /// <summary>Address of the dynamic string table.</summary>
    DT_STRTAB = 5,
    /// <summary>Address of the dynamic symbol table.</summary>
    DT_SYMTAB = 6,
    DT_RELA = 7,
    DT_RELASZ = 8,
    DT_RELAENT = 9,
    /// <summary>Size in bytes of the dynamic string table.</summary>
    DT_STRSZ = 10,
    /// <summary>Size in bytes of one symbol table entry.</summary>
    DT_SYMENT = 11,
    DT_INIT = 12,
    DT_FINI = 13,
    /// <summary>Offset in the dynamic string table of the object's own name (linux-gate.so.1).</summary>
    DT_SONAME = 14,
    DT_RPATH = 15,
    DT_SYMBOLIC = 16,
    DT_REL = 17,
    DT_RELSZ = 18,
    DT_RELENT = 19,
    DT_PLTREL = 20,
    DT_DEBUG = 21,
    DT_TEXTREL = 22,
    DT_JMPREL = 23,
    DT_FLAGS = 30,
    DT_GNU_HASH = 0x6fff_fef5,
    DT_VERSYM = 0x6fff_fff0,
    DT_FLAGS_1 = 0x6fff_fffb,
    DT_VERDEF = 0x6fff_fffc,
    DT_VERDEFNUM = 0x6fff_fffd,
}
