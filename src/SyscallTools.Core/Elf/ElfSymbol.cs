namespace SyscallTools.Core.Elf;

/// <summary>
/// One symbol-table entry (Elf32_Sym / Elf64_Sym) with its name resolved. <see cref="Index"/> is its position
/// in its table, which is what the hash table's chains refer to; entry 0 is the null symbol.
/// </summary>
public sealed record ElfSymbol(
    int Index,
    string Name,
    ulong Value,
    ulong Size,
    ElfSymbolType Type,
    ElfSymbolBinding Binding,
    byte Other,
    ushort SectionIndex,
    bool IsDynamic)
{
    /// <summary>st_other &amp; 3: STV_DEFAULT (0), STV_INTERNAL, STV_HIDDEN, STV_PROTECTED.</summary>
    public byte Visibility => (byte)(Other & 3);

    /// <summary>False for a reference to a symbol defined elsewhere (st_shndx = SHN_UNDEF).</summary>
    public bool IsDefined => SectionIndex != ElfSectionIndex.SHN_UNDEF;
}
