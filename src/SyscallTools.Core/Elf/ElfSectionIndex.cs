namespace SyscallTools.Core.Elf;

/// <summary>Reserved section indices (SHN_*) as they appear in st_shndx and e_shstrndx.</summary>
public static class ElfSectionIndex
{
    /// <summary>Undefined: a symbol with this index is a reference, not a definition.</summary>
    public const ushort SHN_UNDEF = 0;
    public const ushort SHN_LORESERVE = 0xff00;
    /// <summary>Absolute value, not relative to any section.</summary>
    public const ushort SHN_ABS = 0xfff1;
    public const ushort SHN_COMMON = 0xfff2;
    /// <summary>The real index does not fit in 16 bits; it is elsewhere (section 0's sh_link for e_shstrndx).</summary>
    public const ushort SHN_XINDEX = 0xffff;
}
