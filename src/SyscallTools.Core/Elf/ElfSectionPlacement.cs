namespace SyscallTools.Core.Elf;

/// <summary>Where <see cref="ElfBuilder"/> puts one section: file offset, mapped address, size, alignment.</summary>
public readonly record struct ElfSectionPlacement(string Name, int Offset, uint Address, int Size, uint Alignment)
{
    /// <summary>The first offset after the section.</summary>
    public int End => Offset + Size;
}
