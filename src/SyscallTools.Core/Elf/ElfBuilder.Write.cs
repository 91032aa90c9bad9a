namespace SyscallTools.Core.Elf;

// Step two: the bytes. The layout is fixed; this only fills it in and appends the unmapped tail.
public sealed partial class ElfBuilder
{
    /// <summary>
    /// Writes the image. Calls <see cref="Layout"/> first if the caller has not. <paramref name="sectionBytes"/>
    /// holds, by name, the bytes of every section declared by size, each exactly as long as declared.
    /// </summary>
    public byte[] Build(ReadOnlySpan<byte> text, IReadOnlyDictionary<string, byte[]>? sectionBytes = null)
    {
        var layout = Layout();
        var plan = _plan!;
        var contents = SectionContents(sectionBytes ?? new Dictionary<string, byte[]>());

        // Section indices: 0 null, 1 .hash, 2 .dynsym, 3 .dynstr, 4 .dynamic, then the added sections, then
        // .text, .symtab, .strtab, .shstrtab.
        const int dynsymIndex = 2, dynstrIndex = 3;
        int textIndex = 5 + _sections.Count, strtabIndex = textIndex + 2, shstrtabIndex = textIndex + 3;

        var locals = _symbols.Where(s => !s.IsExported).ToArray();
        var symtabOrder = locals.Concat(plan.Exported).ToArray(); // gABI: locals before all others
        var strtab = new ElfStringTableBuilder();
        foreach (var s in symtabOrder) strtab.Add(s.Name);

        int textEnd = checked(TextOffset + text.Length);
        int symtabOffset = AlignUp(textEnd, 4);
        int strtabOffset = symtabOffset + (symtabOrder.Length + 1) * Sym;
        var shstrtab = new ElfStringTableBuilder();
        foreach (var p in layout.Sections) shstrtab.Add(p.Name);
        foreach (var name in new[] { ".text", ".symtab", ".strtab", ".shstrtab" }) shstrtab.Add(name);
        int shstrtabOffset = strtabOffset + strtab.Size;
        int sectionCount = shstrtabIndex + 1;
        int shoff = AlignUp(shstrtabOffset + shstrtab.Size, 4);
        int total = checked(shoff + sectionCount * Shdr);
        if ((ulong)LoadAddress + (ulong)total > 1UL << 32)
            throw new InvalidOperationException($"an image of 0x{total:x} bytes at 0x{LoadAddress:x} passes 4 GiB");

        var w = new ElfImageWriter(total);
        WriteFileHeader(w, plan.ProgramHeaderCount, shoff, sectionCount, shstrtabIndex);

        ElfSectionPlacement Placed(string name) => layout[name];
        var dynamic = Placed(".dynamic");
        WriteProgramHeaders(w, total, dynamic);

        // .hash and .dynsym share one order: the null symbol, then the exported symbols as added.
        var dynNames = new[] { "" }.Concat(plan.Exported.Select(s => s.Name)).ToArray();
        w.Copy(Placed(".hash").Offset, ElfHashTableBuilder.Build(dynNames));
        for (int i = 0; i < plan.Exported.Length; i++)
            WriteSymbol(w, Placed(".dynsym").Offset + (i + 1) * Sym, plan.Exported[i], plan.DynStr.OffsetOf(plan.Exported[i].Name), text.Length, textIndex);
        w.Copy(Placed(".dynstr").Offset, plan.DynStr.ToArray());
        WriteDynamic(w, dynamic.Offset, plan);
        foreach (var s in _sections) w.Copy(Placed(s.Name).Offset, contents[s.Name]);
        w.Copy(TextOffset, text);
        for (int i = 0; i < symtabOrder.Length; i++)
            WriteSymbol(w, symtabOffset + (i + 1) * Sym, symtabOrder[i], strtab.OffsetOf(symtabOrder[i].Name), text.Length, textIndex);
        w.Copy(strtabOffset, strtab.ToArray());
        w.Copy(shstrtabOffset, shstrtab.ToArray());

        var headers = new List<ElfSection> { new(0, "", ElfSectionType.SHT_NULL, 0, 0, 0, 0, 0, 0, 0, 0) };
        ElfSection Header(ElfSectionPlacement p, ElfSectionType type, ElfSectionFlags flags, uint link = 0, uint info = 0, uint entsize = 0) =>
            new(headers.Count, p.Name, type, flags, (flags & ElfSectionFlags.SHF_ALLOC) != 0 ? p.Address : 0, (ulong)p.Offset,
                (ulong)p.Size, link, info, p.Alignment, entsize);
        headers.Add(Header(Placed(".hash"), ElfSectionType.SHT_HASH, ElfSectionFlags.SHF_ALLOC, dynsymIndex, 0, 4));
        // sh_info of a symbol table is one past the last local; .dynsym has only the null symbol before its globals.
        headers.Add(Header(Placed(".dynsym"), ElfSectionType.SHT_DYNSYM, ElfSectionFlags.SHF_ALLOC, dynstrIndex, 1, Sym));
        headers.Add(Header(Placed(".dynstr"), ElfSectionType.SHT_STRTAB, ElfSectionFlags.SHF_ALLOC));
        // No SHF_WRITE: the whole image is mapped read-only and nothing relocates .dynamic in place.
        headers.Add(Header(dynamic, ElfSectionType.SHT_DYNAMIC, ElfSectionFlags.SHF_ALLOC, dynstrIndex, 0, Dyn));
        foreach (var s in _sections) headers.Add(Header(Placed(s.Name), s.Type, s.Flags));
        headers.Add(Header(new ElfSectionPlacement(".text", TextOffset, TextAddress, text.Length, TextAlignment()),
            ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC | ElfSectionFlags.SHF_EXECINSTR));
        headers.Add(Header(new ElfSectionPlacement(".symtab", symtabOffset, 0, strtabOffset - symtabOffset, 4),
            ElfSectionType.SHT_SYMTAB, 0, (uint)strtabIndex, (uint)locals.Length + 1, Sym));
        headers.Add(Header(new ElfSectionPlacement(".strtab", strtabOffset, 0, strtab.Size, 1), ElfSectionType.SHT_STRTAB, 0));
        headers.Add(Header(new ElfSectionPlacement(".shstrtab", shstrtabOffset, 0, shstrtab.Size, 1), ElfSectionType.SHT_STRTAB, 0));
        for (int i = 0; i < headers.Count; i++)
            WriteSectionHeader(w, shoff + i * Shdr, headers[i], shstrtab.OffsetOf(headers[i].Name));
        return w.Bytes;
    }

    private Dictionary<string, byte[]> SectionContents(IReadOnlyDictionary<string, byte[]> supplied)
    {
        foreach (var name in supplied.Keys)
            if (!_sections.Any(s => s.Name == name && s.Bytes is null))
                throw new ArgumentException($"bytes were given for '{name}', which was not declared by size", nameof(supplied));
        var contents = new Dictionary<string, byte[]>();
        foreach (var s in _sections)
        {
            var bytes = s.Bytes ?? (supplied.TryGetValue(s.Name, out var b) ? b
                : throw new ArgumentException($"no bytes were given for section '{s.Name}'", nameof(supplied)));
            if (bytes.Length != s.Size)
                throw new ArgumentException($"section '{s.Name}' was laid out as {s.Size} bytes but {bytes.Length} were given", nameof(supplied));
            contents[s.Name] = bytes;
        }
        return contents;
    }

    private void WriteFileHeader(ElfImageWriter w, int phnum, int shoff, int shnum, int shstrndx)
    {
        w.U8(ElfIdent.EI_MAG0, ElfIdent.ELFMAG0);
        w.U8(ElfIdent.EI_MAG1, ElfIdent.ELFMAG1);
        w.U8(ElfIdent.EI_MAG2, ElfIdent.ELFMAG2);
        w.U8(ElfIdent.EI_MAG3, ElfIdent.ELFMAG3);
        w.U8(ElfIdent.EI_CLASS, (byte)ElfClass.ELFCLASS32);
        w.U8(ElfIdent.EI_DATA, ElfIdent.ELFDATA2LSB);
        w.U8(ElfIdent.EI_VERSION, ElfIdent.EV_CURRENT);
        w.U8(ElfIdent.EI_OSABI, ElfIdent.ELFOSABI_NONE);
        w.U16(16, (ushort)ElfType.ET_DYN);
        w.U16(18, (ushort)ElfMachine.EM_386);
        w.U32(20, ElfIdent.EV_CURRENT);
        w.U32(24, _entry ?? TextAddress);
        w.U32(28, Ehdr);            // e_phoff: right after this header
        w.U32(32, (uint)shoff);
        w.U32(36, 0);               // e_flags: none defined for i386
        w.U16(40, Ehdr);
        w.U16(42, Phdr);
        w.U16(44, (ushort)phnum);
        w.U16(46, Shdr);
        w.U16(48, (ushort)shnum);
        w.U16(50, (ushort)shstrndx);
    }

    private void WriteProgramHeaders(ElfImageWriter w, int total, ElfSectionPlacement dynamic)
    {
        int at = Ehdr;
        void Segment(ElfSegmentType type, ElfSegmentFlags flags, int offset, uint vaddr, int size, uint align)
        {
            w.U32(at, (uint)type);
            w.U32(at + 4, (uint)offset);
            w.U32(at + 8, vaddr);
            w.U32(at + 12, vaddr);  // p_paddr mirrors p_vaddr, as linkers write it
            w.U32(at + 16, (uint)size);
            w.U32(at + 20, (uint)size);
            w.U32(at + 24, (uint)flags);
            w.U32(at + 28, align);
            at += Phdr;
        }

        var rx = ElfSegmentFlags.PF_R | ElfSegmentFlags.PF_X;
        Segment(ElfSegmentType.PT_LOAD, rx, 0, LoadAddress, total, LoadAlignment());
        Segment(ElfSegmentType.PT_DYNAMIC, ElfSegmentFlags.PF_R, dynamic.Offset, dynamic.Address, dynamic.Size, dynamic.Alignment);
        var layout = _plan!.Layout;
        foreach (var s in _sections.Where(s => s.Type == ElfSectionType.SHT_NOTE))
            Segment(ElfSegmentType.PT_NOTE, ElfSegmentFlags.PF_R, layout[s.Name].Offset, layout[s.Name].Address, s.Size, s.EffectiveAlignment);
        foreach (var s in _sections.Where(IsEhFrameHdr))
            Segment(ElfSegmentType.PT_GNU_EH_FRAME, ElfSegmentFlags.PF_R, layout[s.Name].Offset, layout[s.Name].Address, s.Size, s.EffectiveAlignment);
    }

    private void WriteDynamic(ElfImageWriter w, int at, Plan plan)
    {
        var layout = plan.Layout;
        void Add(ElfDynamicTag tag, uint value)
        {
            w.I32(at, (int)tag);
            w.U32(at + 4, value);
            at += Dyn;
        }

        if (_soName is not null) Add(ElfDynamicTag.DT_SONAME, (uint)plan.DynStr.OffsetOf(_soName));
        Add(ElfDynamicTag.DT_HASH, layout[".hash"].Address);
        Add(ElfDynamicTag.DT_STRTAB, layout[".dynstr"].Address);
        Add(ElfDynamicTag.DT_SYMTAB, layout[".dynsym"].Address);
        Add(ElfDynamicTag.DT_STRSZ, (uint)plan.DynStr.Size);
        Add(ElfDynamicTag.DT_SYMENT, Sym);
        Add(ElfDynamicTag.DT_NULL, 0);
    }

    private void WriteSymbol(ElfImageWriter w, int at, ElfSymbolDefinition s, int nameOffset, int textLength, int textIndex)
    {
        w.U32(at, (uint)nameOffset);
        w.U32(at + 4, s.Value);
        w.U32(at + 8, s.Size);
        w.U8(at + 12, (byte)(((int)s.Binding << 4) | ((int)s.Type & 0xf)));
        w.U8(at + 13, 0); // STV_DEFAULT
        w.U16(at + 14, SectionIndexOf(s.Value, textLength, textIndex));
    }

    /// <summary>
    /// The section a symbol's address falls in: an added allocated section, else .text (whose end address
    /// still counts, for a label that marks the end of the code), else SHN_ABS.
    /// </summary>
    private ushort SectionIndexOf(uint value, int textLength, int textIndex)
    {
        var layout = _plan!.Layout;
        for (int i = 0; i < _sections.Count; i++)
        {
            var p = layout[_sections[i].Name];
            if ((_sections[i].Flags & ElfSectionFlags.SHF_ALLOC) != 0 && value >= p.Address && value - p.Address < (uint)p.Size)
                return (ushort)(5 + i);
        }
        if (value >= TextAddress && value - TextAddress <= (uint)textLength) return (ushort)textIndex;
        return ElfSectionIndex.SHN_ABS;
    }

    private static void WriteSectionHeader(ElfImageWriter w, int at, ElfSection s, int nameOffset)
    {
        w.U32(at, (uint)nameOffset);
        w.U32(at + 4, (uint)s.Type);
        w.U32(at + 8, (uint)s.Flags);
        w.U32(at + 12, (uint)s.Address);
        w.U32(at + 16, (uint)s.Offset);
        w.U32(at + 20, (uint)s.Size);
        w.U32(at + 24, s.Link);
        w.U32(at + 28, s.Info);
        w.U32(at + 32, (uint)s.AddressAlignment);
        w.U32(at + 36, (uint)s.EntrySize);
    }

    /// <summary>
    /// p_align of the PT_LOAD: a page, unless the load address is not page-aligned, in which case the largest
    /// power of two that divides it, so that p_vaddr ≡ p_offset (mod p_align) still holds.
    /// </summary>
    private uint LoadAlignment() => LoadAddress % 0x1000 == 0 ? 0x1000u : LoadAddress & (~LoadAddress + 1);

    /// <summary>sh_addralign of .text: 16, or the largest power of two its address allows.</summary>
    private uint TextAlignment() => TextAddress % 16 == 0 ? 16u : TextAddress & (~TextAddress + 1);
}
