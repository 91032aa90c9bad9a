namespace SyscallTools.Core.Elf;

/// <summary>
/// Reads a little-endian ELF32 or ELF64 file — a vDSO image, a shared object, a static program — into its
/// file header, segments, sections, symbols and dynamic entries. Everything is parsed and checked in the
/// constructor, which throws nothing but <see cref="ElfFormatException"/>: every offset and count the file
/// states is bounds-checked before it is used, so a truncated or hostile image is an error with a message,
/// never an index exception or a hang. After construction nothing throws.
/// </summary>
/// <remarks>
/// The reader does not insist on x86: <see cref="Machine"/> says what the file is for and the caller decides.
/// It copies the input, so the sections' and segments' <c>Bytes</c> stay valid whatever the caller does next.
/// </remarks>
public sealed partial class ElfReader
{
    private readonly ElfInput _input;
    private readonly SysvHashTable? _hash;

    public ElfReader(ReadOnlySpan<byte> image)
    {
        _input = new ElfInput(image.ToArray());
        Header = ReadFileHeader(_input);
        Segments = ReadSegments();
        LoadSegments = Segments.Where(s => s.Type == ElfSegmentType.PT_LOAD).ToArray();
        Sections = ReadSections();
        DynamicSymbols = ReadSymbolTable(ElfSectionType.SHT_DYNSYM);
        Symbols = ReadSymbolTable(ElfSectionType.SHT_SYMTAB);
        DynamicEntries = ReadDynamicEntries();
        _hash = ReadHashTable();
    }

    /// <summary>The whole file as read (a private copy).</summary>
    public ReadOnlyMemory<byte> Image => _input.Bytes;

    public ElfFileHeader Header { get; }
    /// <summary>e_ident[EI_CLASS]: 32- or 64-bit structures.</summary>
    public ElfClass Class => Header.Class;
    /// <summary>e_machine: EM_386 or EM_X86_64 for the files this project loads.</summary>
    public ElfMachine Machine => Header.Machine;
    /// <summary>e_type: ET_DYN for a vDSO or shared object, ET_EXEC for a static program.</summary>
    public ElfType Type => Header.Type;
    /// <summary>e_entry, as a virtual address.</summary>
    public ulong Entry => Header.Entry;

    /// <summary>Every program header, in file order.</summary>
    public IReadOnlyList<ElfSegment> Segments { get; }
    /// <summary>The PT_LOAD segments, in file order: what a loader maps.</summary>
    public IReadOnlyList<ElfSegment> LoadSegments { get; }
    /// <summary>Every section header, index 0 (SHT_NULL) included, so a list index is a section index.</summary>
    public IReadOnlyList<ElfSection> Sections { get; }
    /// <summary>The SHT_DYNSYM table (.dynsym), null symbol first; empty if there is none.</summary>
    public IReadOnlyList<ElfSymbol> DynamicSymbols { get; }
    /// <summary>The SHT_SYMTAB table (.symtab), null symbol first; empty if the file is stripped.</summary>
    public IReadOnlyList<ElfSymbol> Symbols { get; }
    /// <summary>The dynamic array up to (not including) DT_NULL, from SHT_DYNAMIC or else PT_DYNAMIC.</summary>
    public IReadOnlyList<ElfDynamicEntry> DynamicEntries { get; }

    /// <summary>The first section called <paramref name="name"/>, or null.</summary>
    public ElfSection? GetSection(string name) => Sections.FirstOrDefault(s => s.Name == name);

    /// <summary>
    /// The symbol called <paramref name="name"/>, looked for in .dynsym and then .symtab. A definition wins
    /// over an undefined reference of the same name; null if neither table has it.
    /// </summary>
    public ElfSymbol? FindSymbol(string name)
    {
        if (name.Length == 0) return null;
        ElfSymbol? reference = null;
        foreach (var table in new[] { DynamicSymbols, Symbols })
            foreach (var s in table)
            {
                if (s.Name != name) continue;
                if (s.IsDefined) return s;
                reference ??= s;
            }
        return reference;
    }

    /// <summary>
    /// Finds a .dynsym symbol through the SysV hash table (SHT_HASH), as a dynamic loader would: hash the
    /// name, start at its bucket, follow the chain. Null if the file has no hash table or the chain does not
    /// lead to the name. Broken chains (indices out of range, loops) end the search instead of hanging it.
    /// </summary>
    public ElfSymbol? LookupDynamicSymbol(string name)
    {
        if (_hash is null || _hash.Buckets.Length == 0 || name.Length == 0) return null;
        uint index = _hash.Buckets[ElfHash.Compute(name) % (uint)_hash.Buckets.Length];
        for (int steps = 0; index != 0 && steps <= _hash.Chains.Length; steps++)
        {
            if (index < (uint)DynamicSymbols.Count && DynamicSymbols[(int)index].Name == name)
                return DynamicSymbols[(int)index];
            if (index >= (uint)_hash.Chains.Length) return null;
            index = _hash.Chains[index];
        }
        return null;
    }

    /// <summary>Whether the file has a SysV hash table that <see cref="LookupDynamicSymbol"/> can use.</summary>
    public bool HasSysvHashTable => _hash is not null;

    private sealed record SysvHashTable(uint[] Buckets, uint[] Chains);
}
