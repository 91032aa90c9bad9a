using static SyscallTools.Core.Elf.ElfInput;

namespace SyscallTools.Core.Elf;

// What the sections hold: symbol tables, the dynamic array and the SysV hash table.
public sealed partial class ElfReader
{
    private List<ElfSymbol> ReadSymbolTable(ElfSectionType type)
    {
        var symbols = new List<ElfSymbol>();
        var table = Sections.FirstOrDefault(s => s.Type == type);
        if (table is null) return symbols;

        string what = $"section [{table.Index}] {table.Name}";
        int size = ElfStructureSizes.Sym(Class);
        if (table.EntrySize < (ulong)size)
            throw new ElfFormatException(
                $"{what} has sh_entsize {table.EntrySize}, smaller than {ElfStructureSizes.Name(Class, "Sym")} ({size} bytes)");
        if (table.Link >= (uint)Sections.Count)
            throw new ElfFormatException($"{what} has sh_link {table.Link}, which is not a section (the file has {Sections.Count})");
        var stringSection = Sections[(int)table.Link];
        string stringsWhat = $"string table section [{stringSection.Index}] {stringSection.Name}";
        if (!stringSection.HasFileBytes)
            throw new ElfFormatException($"{what} links to {stringsWhat}, which has no bytes in the file");
        var strings = new ElfStringTable(stringSection.Bytes, stringsWhat);

        bool is64 = Class == ElfClass.ELFCLASS64;
        var bytes = table.Bytes.Span;
        // Entry size is at least 16 and the bytes are inside the file, so count and each start fit an int.
        int count = (int)((ulong)bytes.Length / table.EntrySize);
        for (int i = 0; i < count; i++)
        {
            var s = bytes.Slice((int)((ulong)i * table.EntrySize), size);
            uint nameOffset = U32(s, 0);
            byte info = s[is64 ? 4 : 12], other = s[is64 ? 5 : 13];
            ushort shndx = U16(s, is64 ? 6 : 14);
            ulong value = is64 ? U64(s, 8) : U32(s, 4);
            ulong symSize = is64 ? U64(s, 16) : U32(s, 8);
            string name = nameOffset == 0 ? "" : strings.NameAt(nameOffset, $"symbol {i} of {what}");
            symbols.Add(new ElfSymbol(i, name, value, symSize, (ElfSymbolType)(info & 0xf), (ElfSymbolBinding)(info >> 4),
                other, shndx, type == ElfSectionType.SHT_DYNSYM));
        }
        return symbols;
    }

    private List<ElfDynamicEntry> ReadDynamicEntries()
    {
        var entries = new List<ElfDynamicEntry>();
        // Section headers are optional at run time; a loader finds the array through PT_DYNAMIC.
        var bytes = Sections.FirstOrDefault(s => s.Type == ElfSectionType.SHT_DYNAMIC)?.Bytes
            ?? Segments.FirstOrDefault(s => s.Type == ElfSegmentType.PT_DYNAMIC)?.Bytes
            ?? ReadOnlyMemory<byte>.Empty;
        bool is64 = Class == ElfClass.ELFCLASS64;
        int size = ElfStructureSizes.Dyn(Class);
        var span = bytes.Span;
        for (int at = 0; at + size <= span.Length; at += size)
        {
            var tag = (ElfDynamicTag)(is64 ? I64(span, at) : I32(span, at));
            if (tag == ElfDynamicTag.DT_NULL) break;
            entries.Add(new ElfDynamicEntry(tag, is64 ? U64(span, at + 8) : U32(span, at + 4)));
        }
        return entries;
    }

    private SysvHashTable? ReadHashTable()
    {
        var section = Sections.FirstOrDefault(s => s.Type == ElfSectionType.SHT_HASH);
        if (section is null) return null;
        string what = $"section [{section.Index}] {section.Name}";
        var span = section.Bytes.Span;
        if (span.Length < 8)
            throw new ElfFormatException($"{what} is {span.Length} bytes, too short for nbucket and nchain");
        uint nbucket = U32(span, 0), nchain = U32(span, 4);
        // x86 and x86-64 both use 4-byte hash words (Elf32_Word), whatever the class.
        ulong needed = 8 + 4 * ((ulong)nbucket + nchain);
        if (needed > (ulong)span.Length)
            throw new ElfFormatException(
                $"{what} is truncated: nbucket {nbucket} and nchain {nchain} need 0x{needed:x} bytes, it has 0x{span.Length:x}");
        var buckets = new uint[nbucket];
        var chains = new uint[nchain];
        for (int i = 0; i < buckets.Length; i++) buckets[i] = U32(span, 8 + 4 * i);
        for (int i = 0; i < chains.Length; i++) chains[i] = U32(span, 8 + 4 * (buckets.Length + i));
        return new SysvHashTable(buckets, chains);
    }
}
