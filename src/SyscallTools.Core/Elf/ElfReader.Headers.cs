using static SyscallTools.Core.Elf.ElfInput;

namespace SyscallTools.Core.Elf;

// The three header tables: Elf*_Ehdr, then the program headers and section headers it points at.
public sealed partial class ElfReader
{
    /// <summary>e_phnum value saying the real count is in section 0's sh_info.</summary>
    private const ushort PN_XNUM = 0xffff;

    private static ElfFileHeader ReadFileHeader(ElfInput input)
    {
        var b = input.Bytes;
        if (b.Length < ElfStructureSizes.EI_NIDENT)
            throw new ElfFormatException($"file is {b.Length} bytes, too short for e_ident ({ElfStructureSizes.EI_NIDENT} bytes)");
        if (b[ElfIdent.EI_MAG0] != ElfIdent.ELFMAG0 || b[ElfIdent.EI_MAG1] != ElfIdent.ELFMAG1
            || b[ElfIdent.EI_MAG2] != ElfIdent.ELFMAG2 || b[ElfIdent.EI_MAG3] != ElfIdent.ELFMAG3)
            throw new ElfFormatException("not an ELF file: e_ident does not start with \\x7fELF");
        var cls = (ElfClass)b[ElfIdent.EI_CLASS];
        if (cls is not (ElfClass.ELFCLASS32 or ElfClass.ELFCLASS64))
            throw new ElfFormatException($"e_ident[EI_CLASS] is {b[ElfIdent.EI_CLASS]}: neither ELFCLASS32 nor ELFCLASS64");
        if (b[ElfIdent.EI_DATA] != ElfIdent.ELFDATA2LSB)
            throw new ElfFormatException($"e_ident[EI_DATA] is {b[ElfIdent.EI_DATA]}: only little-endian (ELFDATA2LSB) files are read");
        if (b[ElfIdent.EI_VERSION] != ElfIdent.EV_CURRENT)
            throw new ElfFormatException($"e_ident[EI_VERSION] is {b[ElfIdent.EI_VERSION]}, not EV_CURRENT");

        bool is64 = cls == ElfClass.ELFCLASS64;
        string ehdrName = ElfStructureSizes.Name(cls, "Ehdr");
        var e = input.Slice(0, (ulong)ElfStructureSizes.Ehdr(cls), $"the {ehdrName} file header").Span;
        var type = (ElfType)U16(e, 16);
        var machine = (ElfMachine)U16(e, 18);
        uint version = U32(e, 20);
        ulong entry = is64 ? U64(e, 24) : U32(e, 24);
        ulong phoff = is64 ? U64(e, 32) : U32(e, 28);
        ulong shoff = is64 ? U64(e, 40) : U32(e, 32);
        int at = is64 ? 48 : 36;
        uint flags = U32(e, at);
        ushort ehsize = U16(e, at + 4), phentsize = U16(e, at + 6), phnum = U16(e, at + 8);
        ushort shentsize = U16(e, at + 10), shnum = U16(e, at + 12), shstrndx = U16(e, at + 14);

        // Extended numbering: counts that do not fit 16 bits live in section 0 (gABI, "Sections").
        ulong sectionCount = shnum, phdrCount = phnum, nameTable = shstrndx;
        if (shoff != 0)
        {
            RequireEntrySize(shentsize, ElfStructureSizes.Shdr(cls), "e_shentsize", ElfStructureSizes.Name(cls, "Shdr"));
            var s0 = input.Slice(shoff, (ulong)ElfStructureSizes.Shdr(cls), "section header 0 (the section header table)").Span;
            if (shnum == 0) sectionCount = is64 ? U64(s0, 32) : U32(s0, 20);
            if (shstrndx == ElfSectionIndex.SHN_XINDEX) nameTable = U32(s0, is64 ? 40 : 24);
            if (phnum == PN_XNUM) phdrCount = U32(s0, is64 ? 44 : 28);
            input.Table(shoff, sectionCount, shentsize, "section header table");
            if (nameTable >= sectionCount && nameTable != ElfSectionIndex.SHN_UNDEF)
                throw new ElfFormatException($"e_shstrndx {nameTable} is not a section (the file has {sectionCount})");
        }
        else
        {
            if (shnum != 0)
                throw new ElfFormatException($"e_shnum is {shnum} but e_shoff is 0: there is no section header table");
            nameTable = 0;
        }
        if (phdrCount != 0)
        {
            RequireEntrySize(phentsize, ElfStructureSizes.Phdr(cls), "e_phentsize", ElfStructureSizes.Name(cls, "Phdr"));
            input.Table(phoff, phdrCount, phentsize, "program header table");
        }

        // The table checks above bound both counts by the file length, so they fit an int.
        return new ElfFileHeader(cls, b[ElfIdent.EI_OSABI], type, machine, version, entry, phoff, shoff, flags, ehsize,
            phentsize, (int)phdrCount, shentsize, (int)sectionCount, (int)nameTable);
    }

    private static void RequireEntrySize(ushort stated, int needed, string field, string structure)
    {
        if (stated < needed)
            throw new ElfFormatException($"{field} is {stated}, smaller than {structure} ({needed} bytes)");
    }

    private List<ElfSegment> ReadSegments()
    {
        var h = Header;
        var segments = new List<ElfSegment>(h.ProgramHeaderCount);
        if (h.ProgramHeaderCount == 0) return segments;
        bool is64 = h.Class == ElfClass.ELFCLASS64;
        var table = _input.Table(h.ProgramHeaderOffset, (ulong)h.ProgramHeaderCount, h.ProgramHeaderEntrySize, "program header table");
        for (int i = 0; i < h.ProgramHeaderCount; i++)
        {
            var p = table.Span.Slice(i * h.ProgramHeaderEntrySize, ElfStructureSizes.Phdr(h.Class));
            var seg = is64
                ? new ElfSegment((ElfSegmentType)U32(p, 0), (ElfSegmentFlags)U32(p, 4), U64(p, 8), U64(p, 16), U64(p, 24),
                    U64(p, 32), U64(p, 40), U64(p, 48))
                : new ElfSegment((ElfSegmentType)U32(p, 0), (ElfSegmentFlags)U32(p, 24), U32(p, 4), U32(p, 8), U32(p, 12),
                    U32(p, 16), U32(p, 20), U32(p, 28));
            if (seg.Type == ElfSegmentType.PT_NULL) { segments.Add(seg); continue; }
            string what = $"program header {i} ({Describe(seg.Type)})";
            var bytes = _input.Slice(seg.Offset, seg.FileSize, what);
            if (seg.Type == ElfSegmentType.PT_LOAD)
            {
                if (seg.FileSize > seg.MemorySize)
                    throw new ElfFormatException($"{what} has p_filesz 0x{seg.FileSize:x} larger than p_memsz 0x{seg.MemorySize:x}");
                // The last mapped byte, p_vaddr + p_memsz - 1, must still be an address of this class.
                ulong top = is64 ? ulong.MaxValue : uint.MaxValue;
                if (seg.MemorySize != 0 && seg.MemorySize - 1 > top - seg.VirtualAddress)
                    throw new ElfFormatException(
                        $"{what} at p_vaddr 0x{seg.VirtualAddress:x} with p_memsz 0x{seg.MemorySize:x} runs past the end of the address space");
            }
            segments.Add(seg with { Bytes = bytes });
        }
        return segments;
    }

    private List<ElfSection> ReadSections()
    {
        var h = Header;
        var sections = new List<ElfSection>(h.SectionHeaderCount);
        if (h.SectionHeaderCount == 0) return sections;
        bool is64 = h.Class == ElfClass.ELFCLASS64;
        var table = _input.Table(h.SectionHeaderOffset, (ulong)h.SectionHeaderCount, h.SectionHeaderEntrySize, "section header table");

        var raw = new (uint Name, ElfSection Header)[h.SectionHeaderCount];
        for (int i = 0; i < raw.Length; i++)
        {
            var s = table.Span.Slice(i * h.SectionHeaderEntrySize, ElfStructureSizes.Shdr(h.Class));
            raw[i] = (U32(s, 0), is64
                ? new ElfSection(i, "", (ElfSectionType)U32(s, 4), (ElfSectionFlags)U64(s, 8), U64(s, 16), U64(s, 24), U64(s, 32),
                    U32(s, 40), U32(s, 44), U64(s, 48), U64(s, 56))
                : new ElfSection(i, "", (ElfSectionType)U32(s, 4), (ElfSectionFlags)U32(s, 8), U32(s, 12), U32(s, 16), U32(s, 20),
                    U32(s, 24), U32(s, 28), U32(s, 32), U32(s, 36)));
        }

        ElfStringTable? names = null;
        if (h.SectionNameTableIndex != ElfSectionIndex.SHN_UNDEF)
        {
            var shstrtab = raw[h.SectionNameTableIndex].Header;
            string what = $"section-name string table (section [{shstrtab.Index}], e_shstrndx)";
            if (!shstrtab.HasFileBytes)
                throw new ElfFormatException($"{what} is {Describe(shstrtab.Type)}, which has no bytes in the file");
            names = new ElfStringTable(_input.Slice(shstrtab.Offset, shstrtab.Size, what), what);
        }

        foreach (var (nameOffset, header) in raw)
        {
            // Section 0 is all zeros (or holds extended counts); it has no name, like every SHT_NULL header.
            string name = names is null || header.Index == 0 ? "" : names.NameAt(nameOffset, $"section [{header.Index}]");
            var section = header with { Name = name };
            if (section.HasFileBytes)
                section = section with { Bytes = _input.Slice(section.Offset, section.Size, $"section [{section.Index}] {name}") };
            sections.Add(section);
        }
        return sections;
    }

    private static string Describe(ElfSegmentType t) => Enum.IsDefined(t) ? t.ToString() : $"p_type 0x{(uint)t:x}";
    private static string Describe(ElfSectionType t) => Enum.IsDefined(t) ? t.ToString() : $"sh_type 0x{(uint)t:x}";
}
