namespace SyscallTools.Core.Elf;

/// <summary>sh_flags: attributes of a section.</summary>
[Flags]
public enum ElfSectionFlags : ulong
{
    None = 0,
    SHF_WRITE = 0x1,
    /// <summary>The section occupies memory when the file is loaded.</summary>
    SHF_ALLOC = 0x2,
    SHF_EXECINSTR = 0x4,
    SHF_MERGE = 0x10,
    SHF_STRINGS = 0x20,
    SHF_INFO_LINK = 0x40,
    SHF_LINK_ORDER = 0x80,
    SHF_GROUP = 0x200,
    SHF_TLS = 0x400,
}
