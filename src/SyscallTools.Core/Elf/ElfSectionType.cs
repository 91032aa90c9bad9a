namespace SyscallTools.Core.Elf;

/// <summary>sh_type: what a section holds.</summary>
public enum ElfSectionType : uint
{
    /// <summary>Unused header (section 0 is always one).</summary>
    SHT_NULL = 0,
    /// <summary>Bytes whose meaning the program defines: code, data, .eh_frame.</summary>
    SHT_PROGBITS = 1,
    /// <summary>Full symbol table (.symtab), not needed at run time.</summary>
    SHT_SYMTAB = 2,
    /// <summary>NUL-terminated strings (.dynstr, .strtab, .shstrtab).</summary>
    SHT_STRTAB = 3,
    SHT_RELA = 4,
    /// <summary>SysV symbol hash table (.hash): nbucket, nchain, buckets, chains.</summary>
    SHT_HASH = 5,
    /// <summary>The dynamic array (.dynamic).</summary>
    SHT_DYNAMIC = 6,
    SHT_NOTE = 7,
    /// <summary>Occupies memory but no file bytes (.bss): sh_offset is nominal, sh_size is the memory size.</summary>
    SHT_NOBITS = 8,
    SHT_REL = 9,
    SHT_SHLIB = 10,
    /// <summary>Symbols the dynamic loader sees (.dynsym).</summary>
    SHT_DYNSYM = 11,
    SHT_INIT_ARRAY = 14,
    SHT_FINI_ARRAY = 15,
    SHT_PREINIT_ARRAY = 16,
    SHT_GROUP = 17,
    SHT_SYMTAB_SHNDX = 18,
    SHT_GNU_HASH = 0x6fff_fff6,
    SHT_GNU_verdef = 0x6fff_fffd,
    SHT_GNU_verneed = 0x6fff_fffe,
    SHT_GNU_versym = 0x6fff_ffff,
}
