namespace SyscallTools.Core.Elf;

/// <summary>
/// The addresses <see cref="ElfBuilder.Layout"/> fixed, given before any section's bytes exist, so the caller
/// can generate PC-relative contents (.eh_frame's pc_begin, .eh_frame_hdr's table) against final addresses.
/// <see cref="Sections"/> lists everything that precedes .text, in file order; .text itself is at
/// <see cref="TextOffset"/>. Everything after .text (.symtab, .strtab, .shstrtab, section headers) is not mapped
/// by anyone's address arithmetic, so its place depends on the size of .text and is not given here.
/// </summary>
public sealed class ElfLayout
{
    internal ElfLayout(uint loadAddress, int textOffset, IReadOnlyList<ElfSectionPlacement> sections, int minimumTextOffset)
    {
        LoadAddress = loadAddress;
        TextOffset = textOffset;
        Sections = sections;
        MinimumTextOffset = minimumTextOffset;
    }

    /// <summary>The address the image is mapped at; file offset 0 is this address.</summary>
    public uint LoadAddress { get; }
    public int TextOffset { get; }
    public uint TextAddress => LoadAddress + (uint)TextOffset;
    /// <summary>.hash, .dynsym, .dynstr, .dynamic, then the caller's sections in the order they were added.</summary>
    public IReadOnlyList<ElfSectionPlacement> Sections { get; }
    /// <summary>The end of the last section before .text: the smallest text offset this layout allows.</summary>
    public int MinimumTextOffset { get; }

    /// <summary>The placement of a section laid out before .text; <see cref="KeyNotFoundException"/> for any other name.</summary>
    public ElfSectionPlacement this[string name]
    {
        get
        {
            foreach (var s in Sections)
                if (s.Name == name) return s;
            throw new KeyNotFoundException($"no section '{name}' is laid out before .text");
        }
    }

    /// <summary>The mapped address of a section, .text included.</summary>
    public uint AddressOf(string name) => name == ".text" ? TextAddress : this[name].Address;
}
