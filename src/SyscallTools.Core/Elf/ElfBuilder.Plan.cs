namespace SyscallTools.Core.Elf;

// The layout rule: what goes before .text, and where. Depends only on names, sizes and alignments.
public sealed partial class ElfBuilder
{
    /// <summary>Everything <see cref="Build"/> needs that <see cref="Layout"/> fixed.</summary>
    private sealed record Plan(ElfLayout Layout, ElfSymbolDefinition[] Exported, ElfStringTableBuilder DynStr, int ProgramHeaderCount);

    private Plan MakePlan()
    {
        var exported = _symbols.Where(s => s.IsExported).ToArray();
        var dynstr = new ElfStringTableBuilder();
        if (_soName is not null) dynstr.Add(_soName);
        foreach (var s in exported) dynstr.Add(s.Name);

        int dynsymCount = exported.Length + 1; // the null symbol first
        var placements = new List<ElfSectionPlacement>();
        int offset = Ehdr + ProgramHeaderCount() * Phdr;
        void Place(string name, int size, uint alignment)
        {
            offset = AlignUp(offset, alignment);
            placements.Add(new ElfSectionPlacement(name, offset, unchecked(LoadAddress + (uint)offset), size, alignment));
            offset = checked(offset + size);
        }

        Place(".hash", ElfHashTableBuilder.Size(dynsymCount), 4);
        Place(".dynsym", dynsymCount * Sym, 4);
        Place(".dynstr", dynstr.Size, 1);
        Place(".dynamic", DynamicEntryCount() * Dyn, 4);
        foreach (var s in _sections) Place(s.Name, s.Size, s.EffectiveAlignment);

        return new Plan(new ElfLayout(LoadAddress, TextOffset, placements, offset), exported, dynstr, ProgramHeaderCount());
    }

    /// <summary>PT_LOAD and PT_DYNAMIC, a PT_NOTE per note section, PT_GNU_EH_FRAME for .eh_frame_hdr.</summary>
    private int ProgramHeaderCount() =>
        2 + _sections.Count(s => s.Type == ElfSectionType.SHT_NOTE) + (_sections.Any(IsEhFrameHdr) ? 1 : 0);

    /// <summary>[DT_SONAME,] DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_NULL.</summary>
    private int DynamicEntryCount() => (_soName is null ? 0 : 1) + 6;

    private static bool IsEhFrameHdr(SectionRequest s) => s.Name == ".eh_frame_hdr";

    private static int AlignUp(int value, uint alignment) =>
        alignment <= 1 ? value : checked((int)(((uint)value + alignment - 1) & ~(alignment - 1)));
}
