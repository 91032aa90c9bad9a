namespace SyscallTools.Core.Elf;

/// <summary>
/// The file header (Elf32_Ehdr / Elf64_Ehdr) as read, widened to 64 bits. Counts and the string-table
/// index are the effective ones: when the file uses extended numbering (e_shnum = 0, e_phnum = PN_XNUM,
/// e_shstrndx = SHN_XINDEX) the real values from section 0 are given here.
/// </summary>
public sealed record ElfFileHeader(
    ElfClass Class,
    byte OsAbi,
    ElfType Type,
    ElfMachine Machine,
    uint Version,
    ulong Entry,
    ulong ProgramHeaderOffset,
    ulong SectionHeaderOffset,
    uint Flags,
    ushort HeaderSize,
    ushort ProgramHeaderEntrySize,
    int ProgramHeaderCount,
    ushort SectionHeaderEntrySize,
    int SectionHeaderCount,
    int SectionNameTableIndex);
