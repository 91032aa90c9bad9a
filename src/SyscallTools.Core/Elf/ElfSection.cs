namespace SyscallTools.Core.Elf;

/// <summary>
/// One section header (Elf32_Shdr / Elf64_Shdr) with its name resolved from the section-name string table
/// and its bytes. An SHT_NOBITS section (.bss) has empty <see cref="Bytes"/>: its <see cref="Size"/> is memory,
/// not file, and its <see cref="Offset"/> is only nominal.
/// </summary>
public sealed record ElfSection(
    int Index,
    string Name,
    ElfSectionType Type,
    ElfSectionFlags Flags,
    ulong Address,
    ulong Offset,
    ulong Size,
    uint Link,
    uint Info,
    ulong AddressAlignment,
    ulong EntrySize)
{
    /// <summary>The section's contents in the file; empty for SHT_NOBITS and SHT_NULL.</summary>
    public ReadOnlyMemory<byte> Bytes { get; init; }

    public bool IsAllocated => (Flags & ElfSectionFlags.SHF_ALLOC) != 0;
    public bool IsExecutable => (Flags & ElfSectionFlags.SHF_EXECINSTR) != 0;
    public bool IsWritable => (Flags & ElfSectionFlags.SHF_WRITE) != 0;
    /// <summary>True when the section takes space in the file (everything but SHT_NOBITS and SHT_NULL).</summary>
    public bool HasFileBytes => Type is not ElfSectionType.SHT_NOBITS and not ElfSectionType.SHT_NULL;
}
