using SyscallTools.Core.Elf;
using Xunit;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// The builder's contract apart from the bytes: the layout rule that lets a caller compute PC-relative
/// contents first, determinism, size, and the errors it gives for misuse.
/// </summary>
public class ElfBuilderLayoutTests
{
    [Fact]
    public void SameInputsGiveTheSameBytes()
    {
        // The vDSO is rebuilt at every machine boot; two boots must map identical images.
        Assert.Equal(TestVdso.Build().Image, TestVdso.Build().Image);
        Assert.Equal(TestVdso.Build(0xffff_e000).Image, TestVdso.Build(0xffff_e000).Image);
    }

    [Fact]
    public void AHundredBytesOfTextFitInTwoPages()
    {
        var vdso = TestVdso.Build();
        Assert.Equal(100, vdso.Text.Length);
        Assert.True(vdso.Image.Length <= 2 * 4096, $"image is {vdso.Image.Length} bytes");
    }

    [Fact]
    public void SectionsBeforeTextFollowTheDocumentedRule()
    {
        // Ehdr (52) + 4 Phdrs (PT_LOAD, PT_DYNAMIC, PT_NOTE, PT_GNU_EH_FRAME) = 180; then each section at the next
        // offset aligned to its alignment, in the order .hash, .dynsym, .dynstr, .dynamic, added sections.
        var layout = TestVdso.Builder(0).Layout();
        int offset = 52 + 4 * 32;
        Assert.Equal([".hash", ".dynsym", ".dynstr", ".dynamic", ".note", ".eh_frame_hdr", ".eh_frame"], layout.Sections.Select(s => s.Name));
        foreach (var s in layout.Sections)
        {
            offset = (int)((offset + s.Alignment - 1) / s.Alignment * s.Alignment);
            Assert.Equal(offset, s.Offset);
            Assert.Equal((uint)offset, s.Address);
            offset += s.Size;
        }
        Assert.Equal(offset, layout.MinimumTextOffset);
        Assert.Equal((uint)TestVdso.TextOffset, layout.AddressOf(".text"));
        // Sizes: .hash = 4 * (2 + nbucket 4 + nchain 5); .dynsym = 5 * 16; .dynamic = 7 * 8 with DT_SONAME.
        Assert.Equal((44, 80, 56), (layout[".hash"].Size, layout[".dynsym"].Size, layout[".dynamic"].Size));
    }

    [Fact]
    public void AddressesDependOnNamesAndSizesNotOnSymbolValues()
    {
        // So a caller may lay out, assemble .text, and only then fix symbol values in a second builder.
        var a = new ElfBuilder(0, 0x400).AddSymbol("f", 0x400, 1, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL)
            .AddSection(".eh_frame", ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC, 48, 4).Layout();
        var b = new ElfBuilder(0, 0x400).AddSymbol("f", 0x47f, 99, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL)
            .AddSection(".eh_frame", ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC, 48, 4).Layout();
        Assert.Equal(a.Sections, b.Sections);
    }

    [Fact]
    public void LoadAddressMovesAddressesButNotOffsets()
    {
        var low = TestVdso.Builder(0).Layout();
        var high = TestVdso.Builder(0xffff_e000).Layout();
        Assert.Equal(low.Sections.Select(s => s.Offset), high.Sections.Select(s => s.Offset));
        Assert.Equal(low.Sections.Select(s => s.Address + 0xffff_e000), high.Sections.Select(s => s.Address));
    }

    [Fact]
    public void TextOffsetBelowTheSectionsBeforeItIsRefusedWithTheMinimum()
    {
        var b = TestVdso.Builder(0);
        int minimum = b.MinimumTextOffset;
        var small = new ElfBuilder(0, 0x100);
        foreach (var s in b.Symbols) small.AddSymbol(s);
        small.AddSection(".eh_frame", ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC, 0x200, 4);
        var e = Assert.Throws<InvalidOperationException>(() => small.Layout());
        Assert.Contains($"0x{small.MinimumTextOffset:x}", e.Message);
        Assert.True(minimum <= TestVdso.TextOffset);
    }

    [Fact]
    public void InputsAreFrozenOnceTheLayoutIsGiven()
    {
        // Addresses already handed out must stay true.
        var b = TestVdso.Builder(0);
        b.Layout();
        Assert.Throws<InvalidOperationException>(() => b.AddSymbol("late", 0, 0, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL));
        Assert.Throws<InvalidOperationException>(() => b.AddSection(".late", ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC, 4, 4));
        Assert.Throws<InvalidOperationException>(() => b.SoName = "other.so");
        Assert.Same(b.Layout(), b.Layout());
    }

    [Fact]
    public void BuildNeedsExactlyTheBytesOfEverySectionDeclaredBySize()
    {
        var b = TestVdso.Builder(0);
        var layout = b.Layout();
        var text = TestVdso.Text();
        var right = new Dictionary<string, byte[]>
        {
            [".eh_frame"] = new byte[layout[".eh_frame"].Size], [".eh_frame_hdr"] = new byte[layout[".eh_frame_hdr"].Size],
        };
        b.Build(text, right);
        Assert.Contains("no bytes were given for section '.eh_frame'",
            Assert.Throws<ArgumentException>(() => b.Build(text, new Dictionary<string, byte[]> { [".eh_frame_hdr"] = right[".eh_frame_hdr"] })).Message);
        Assert.Contains("laid out as",
            Assert.Throws<ArgumentException>(() => b.Build(text, new Dictionary<string, byte[]>(right) { [".eh_frame"] = new byte[1] })).Message);
        // .note was given its bytes up front; bytes for it now (or for an unknown name) are a mistake.
        Assert.Contains("not declared by size",
            Assert.Throws<ArgumentException>(() => b.Build(text, new Dictionary<string, byte[]>(right) { [".note"] = TestVdso.Note })).Message);
    }

    [Theory]
    // The builder writes these itself.
    [InlineData(".text", ElfSectionType.SHT_PROGBITS, 4u)]
    [InlineData(".dynsym", ElfSectionType.SHT_PROGBITS, 4u)]
    // One file-backed segment: a section with no file bytes has nowhere to be.
    [InlineData(".bss", ElfSectionType.SHT_NOBITS, 4u)]
    // Alignments are powers of two.
    [InlineData(".rodata", ElfSectionType.SHT_PROGBITS, 12u)]
    public void AddSectionRefusesWhatTheLayoutCannotHold(string name, ElfSectionType type, uint alignment) =>
        Assert.Throws<ArgumentException>(() => new ElfBuilder(0, 0x400).AddSection(name, type, ElfSectionFlags.SHF_ALLOC, 8, alignment));

    [Fact]
    public void AnExportedNameCanBeExportedOnce()
    {
        var b = new ElfBuilder(0, 0x400).AddSymbol("f", 0x400, 1, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL);
        Assert.Throws<ArgumentException>(() => b.AddSymbol("f", 0x401, 1, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_WEAK));
        Assert.Throws<ArgumentException>(() => b.AddSymbol("", 0x401, 1, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL));
    }

    [Fact]
    public void SymbolInAnAddedSectionIsDefinedInThatSection()
    {
        // A data object in .rodata gets .rodata's index; a label at the very end of .text still belongs to .text.
        // The address of .rodata depends on the symbol names, so the layout is taken with the same names first.
        ElfBuilder Make(uint tableAddress) => new ElfBuilder(0x1000, 0x200)
            .AddSymbol("table", tableAddress, 8, ElfSymbolType.STT_OBJECT, ElfSymbolBinding.STB_GLOBAL)
            .AddSymbol("text_end", 0x1200 + 4, 0, ElfSymbolType.STT_NOTYPE, ElfSymbolBinding.STB_LOCAL)
            .AddSection(".rodata", ElfSectionType.SHT_PROGBITS, ElfSectionFlags.SHF_ALLOC, new byte[16], 8);
        var b2 = Make(Make(0).Layout()[".rodata"].Address + 8);
        var elf = new ElfReader(b2.Build(new byte[] { 0x90, 0x90, 0x90, 0xc3 }));
        Assert.Equal(".rodata", elf.Sections[elf.FindSymbol("table")!.SectionIndex].Name);
        Assert.Equal(".text", elf.Sections[elf.FindSymbol("text_end")!.SectionIndex].Name);
        Assert.Equal(0x1200UL, elf.Entry); // no entry given: the start of .text
    }

    [Fact]
    public void ImageWithNoSymbolsOrSectionsIsStillWellFormed()
    {
        var elf = new ElfReader(new ElfBuilder(0, 0x100).Build([0xc3]));
        Assert.Equal([""], elf.DynamicSymbols.Select(s => s.Name)); // just the null symbol
        Assert.True(elf.HasSysvHashTable);
        Assert.Null(elf.LookupDynamicSymbol("anything"));
        Assert.DoesNotContain(elf.DynamicEntries, e => e.Tag == ElfDynamicTag.DT_SONAME);
        Assert.Equal(new byte[] { 0xc3 }, elf.GetSection(".text")!.Bytes.ToArray());
    }

    [Theory]
    // Page-aligned: a page, as a linker would choose.
    [InlineData(0x0u, 0x1000UL)]
    [InlineData(0xbfff_f000u, 0x1000UL)]
    // Not page-aligned: the largest power of two dividing the address keeps p_vaddr ≡ p_offset (mod p_align).
    [InlineData(0x1234u, 0x4UL)]
    [InlineData(0x8_0400u, 0x400UL)]
    public void LoadSegmentAlignmentMatchesTheLoadAddress(uint loadAddress, ulong alignment)
    {
        var elf = new ElfReader(new ElfBuilder(loadAddress, 0x100).Build([0xc3]));
        var load = Assert.Single(elf.LoadSegments);
        Assert.Equal(alignment, load.Alignment);
        Assert.Equal(load.Offset % load.Alignment, load.VirtualAddress % load.Alignment);
    }

    [Fact]
    public void ImagePastFourGibibytesIsRefused()
    {
        var b = new ElfBuilder(0xffff_f000, 0x100);
        Assert.Throws<InvalidOperationException>(() => b.Build(new byte[0x1000]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ElfBuilder(0xffff_ffff, 0x100));
    }
}
