namespace SyscallTools.Core.Elf;

/// <summary>
/// Builds an ELF32 i386 shared object (ET_DYN) shaped like a Linux 32-bit vDSO: one R+X PT_LOAD that covers the
/// whole file from offset 0, a PT_DYNAMIC, and the sections a dynamic loader needs to find exported symbols
/// (.hash, .dynsym, .dynstr, .dynamic), then the caller's sections and .text. The result is a byte array the
/// caller maps at <see cref="LoadAddress"/>; the same inputs always give the same bytes.
/// </summary>
/// <remarks>
/// <para>Building is two steps so that PC-relative contents can be generated against final addresses:</para>
/// <list type="number">
/// <item><see cref="AddSymbol(string, uint, uint, ElfSymbolType, ElfSymbolBinding)"/> and
/// <see cref="AddSection(string, ElfSectionType, ElfSectionFlags, int, uint)"/> (by size), then
/// <see cref="Layout"/>, which fixes and returns every address before .text;</item>
/// <item><see cref="Build"/> with .text and the bytes of the sections that were declared by size.</item>
/// </list>
/// <para>The layout rule, which depends only on the names of the exported symbols, the .so name and the added
/// sections' sizes and alignments (not on symbol values, nor on .text): Elf32_Ehdr at 0; the program headers right
/// after it; .hash, .dynsym, .dynstr and .dynamic, each at the next offset aligned to its alignment (4, 4, 1, 4);
/// then the added sections in the order they were added, each at the next offset aligned to its own alignment;
/// .text at <see cref="TextOffset"/>. After .text come .symtab (all symbols, locals first), .strtab, .shstrtab and
/// the section header table, all inside the PT_LOAD. Every address is <see cref="LoadAddress"/> + offset.</para>
/// <para>Program headers: PT_LOAD, PT_DYNAMIC, one PT_NOTE per SHT_NOTE section, and PT_GNU_EH_FRAME when a
/// section is called .eh_frame_hdr (unwinders find it through that header, as in a real vDSO).</para>
/// </remarks>
public sealed partial class ElfBuilder
{
    private const int Ehdr = ElfStructureSizes.Elf32_Ehdr, Phdr = ElfStructureSizes.Elf32_Phdr,
        Shdr = ElfStructureSizes.Elf32_Shdr, Sym = ElfStructureSizes.Elf32_Sym, Dyn = ElfStructureSizes.Elf32_Dyn;

    /// <summary>Names the builder writes itself; an added section may not reuse them.</summary>
    private static readonly string[] ReservedNames = [".hash", ".dynsym", ".dynstr", ".dynamic", ".text", ".symtab", ".strtab", ".shstrtab"];

    private readonly List<ElfSymbolDefinition> _symbols = [];
    private readonly List<SectionRequest> _sections = [];
    private string? _soName;
    private uint? _entry;
    private Plan? _plan;

    /// <param name="loadAddress">Where the image will be mapped; a vDSO is linked at 0 and relocated by its loader.</param>
    /// <param name="textOffset">File offset of .text; the sections before it must fit (see <see cref="MinimumTextOffset"/>).</param>
    public ElfBuilder(uint loadAddress, int textOffset)
    {
        if (textOffset <= 0) throw new ArgumentOutOfRangeException(nameof(textOffset), textOffset, "the headers come before .text");
        if ((ulong)loadAddress + (ulong)textOffset > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(textOffset), textOffset, "load address + text offset passes 4 GiB");
        LoadAddress = loadAddress;
        TextOffset = textOffset;
    }

    public uint LoadAddress { get; }
    public int TextOffset { get; }
    public uint TextAddress => LoadAddress + (uint)TextOffset;

    /// <summary>DT_SONAME, e.g. "linux-gate.so.1"; none when null.</summary>
    public string? SoName
    {
        get => _soName;
        set { ThrowIfLaidOut(); _soName = value; }
    }

    /// <summary>e_entry; <see cref="TextAddress"/> when null.</summary>
    public uint? Entry
    {
        get => _entry;
        set { ThrowIfLaidOut(); _entry = value; }
    }

    public IReadOnlyList<ElfSymbolDefinition> Symbols => _symbols;

    /// <summary>The smallest <see cref="TextOffset"/> that the symbols and sections added so far allow.</summary>
    public int MinimumTextOffset => _plan?.Layout.MinimumTextOffset ?? MakePlan().Layout.MinimumTextOffset;

    public ElfBuilder AddSymbol(string name, uint value, uint size, ElfSymbolType type, ElfSymbolBinding binding) =>
        AddSymbol(new ElfSymbolDefinition(name, value, size, type, binding));

    public ElfBuilder AddSymbol(ElfSymbolDefinition symbol)
    {
        ThrowIfLaidOut();
        ArgumentNullException.ThrowIfNull(symbol);
        RequireName(symbol.Name, "symbol");
        if (symbol.IsExported && _symbols.Any(s => s.IsExported && s.Name == symbol.Name))
            throw new ArgumentException($"symbol '{symbol.Name}' is already exported", nameof(symbol));
        _symbols.Add(symbol);
        return this;
    }

    /// <summary>Declares a section by size; its bytes are passed to <see cref="Build"/> once <see cref="Layout"/> has fixed its address.</summary>
    public ElfBuilder AddSection(string name, ElfSectionType type, ElfSectionFlags flags, int size, uint alignment)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return AddSection(new SectionRequest(name, type, flags, size, alignment, null));
    }

    /// <summary>Adds a section whose bytes do not depend on any address.</summary>
    public ElfBuilder AddSection(string name, ElfSectionType type, ElfSectionFlags flags, ReadOnlySpan<byte> bytes, uint alignment) =>
        AddSection(new SectionRequest(name, type, flags, bytes.Length, alignment, bytes.ToArray()));

    private ElfBuilder AddSection(SectionRequest request)
    {
        ThrowIfLaidOut();
        RequireName(request.Name, "section");
        if (ReservedNames.Contains(request.Name) || _sections.Any(s => s.Name == request.Name))
            throw new ArgumentException($"section '{request.Name}' already exists", nameof(request.Name));
        // Everything sits in one file-backed segment, so a section must have file bytes.
        if (request.Type is ElfSectionType.SHT_NULL or ElfSectionType.SHT_NOBITS)
            throw new ArgumentException($"section '{request.Name}': {request.Type} has no file bytes; use SHT_PROGBITS", nameof(request.Type));
        if (request.Alignment > 1 && (request.Alignment & (request.Alignment - 1)) != 0)
            throw new ArgumentException($"section '{request.Name}': alignment {request.Alignment} is not a power of two", nameof(request.Alignment));
        _sections.Add(request);
        return this;
    }

    /// <summary>
    /// Fixes the layout and returns the address of every section before .text. After this the builder's inputs
    /// are frozen, so the addresses handed out stay true for <see cref="Build"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The sections before .text do not fit below <see cref="TextOffset"/>.</exception>
    public ElfLayout Layout()
    {
        if (_plan is not null) return _plan.Layout;
        var plan = MakePlan();
        if (plan.Layout.MinimumTextOffset > TextOffset)
            throw new InvalidOperationException(
                $"the sections before .text end at 0x{plan.Layout.MinimumTextOffset:x}, past the text offset 0x{TextOffset:x}");
        _plan = plan;
        return plan.Layout;
    }

    private void ThrowIfLaidOut()
    {
        if (_plan is not null) throw new InvalidOperationException("the layout is fixed: add symbols and sections before Layout()");
    }

    private static void RequireName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('\0'))
            throw new ArgumentException($"a {what} needs a non-empty name without NUL characters", nameof(name));
    }

    private sealed record SectionRequest(string Name, ElfSectionType Type, ElfSectionFlags Flags, int Size, uint Alignment, byte[]? Bytes)
    {
        public uint EffectiveAlignment => Math.Max(1u, Alignment);
    }
}
