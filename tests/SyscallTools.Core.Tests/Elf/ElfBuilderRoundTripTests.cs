using System.Buffers.Binary;
using SyscallTools.Core.Elf;
using Xunit;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>Build the test vDSO, read it back with <see cref="ElfReader"/>, and check everything the builder promised.</summary>
public class ElfBuilderRoundTripTests
{
    private static readonly TestVdso.Built Vdso = TestVdso.Build();
    private static readonly ElfReader Elf = new(Vdso.Image);

    [Fact]
    public void ImageIsAnElf32I386SharedObjectEnteredAtKernelVsyscall()
    {
        Assert.Equal(ElfClass.ELFCLASS32, Elf.Class);
        Assert.Equal(ElfMachine.EM_386, Elf.Machine);
        Assert.Equal(ElfType.ET_DYN, Elf.Type);
        Assert.Equal(Vdso.Address(TestVdso.Vsyscall), Elf.Entry);
        Assert.Equal(52, Elf.Header.HeaderSize);
        Assert.Equal(52UL, Elf.Header.ProgramHeaderOffset); // program headers right after the file header
    }

    [Theory]
    // Exported functions: in .dynsym, in .text, with the size the builder was given.
    [InlineData("__kernel_vsyscall", TestVdso.Vsyscall, TestVdso.VsyscallSize, ElfSymbolType.STT_FUNC)]
    [InlineData("__kernel_sigreturn", TestVdso.Sigreturn, TestVdso.SigreturnSize, ElfSymbolType.STT_FUNC)]
    [InlineData("__kernel_rt_sigreturn", TestVdso.RtSigreturn, TestVdso.RtSigreturnSize, ElfSymbolType.STT_FUNC)]
    public void ExportedFunctionIsInDynsymAndSymtab(string name, int textOffset, int size, ElfSymbolType type)
    {
        var text = Elf.GetSection(".text")!;
        foreach (var table in new[] { Elf.DynamicSymbols, Elf.Symbols })
        {
            var s = Assert.Single(table, s => s.Name == name);
            Assert.Equal(Vdso.Address(textOffset), s.Value);
            Assert.Equal((ulong)size, s.Size);
            Assert.Equal(type, s.Type);
            Assert.Equal(ElfSymbolBinding.STB_GLOBAL, s.Binding);
            Assert.Equal(text.Index, s.SectionIndex);
            Assert.Equal(0, s.Visibility);
        }
        Assert.True(Elf.FindSymbol(name)!.IsDynamic); // .dynsym is searched first
    }

    [Fact]
    public void LocalLabelIsOnlyInSymtabBeforeTheGlobals()
    {
        // int80_landing_pad is for the kernel's own use (it is where INT 0x80 returns); it is not exported.
        Assert.DoesNotContain(Elf.DynamicSymbols, s => s.Name == "int80_landing_pad");
        var pad = Elf.FindSymbol("int80_landing_pad")!;
        Assert.False(pad.IsDynamic);
        Assert.Equal(ElfSymbolBinding.STB_LOCAL, pad.Binding);
        Assert.Equal(ElfSymbolType.STT_NOTYPE, pad.Type);
        Assert.Equal(Vdso.Address(TestVdso.LandingPad), pad.Value);
        // gABI: locals come first and sh_info is the index of the first non-local.
        var symtab = Elf.GetSection(".symtab")!;
        Assert.Equal(1, pad.Index);
        Assert.Equal(2u, symtab.Info);
        Assert.All(Elf.Symbols.Skip(2), s => Assert.NotEqual(ElfSymbolBinding.STB_LOCAL, s.Binding));
    }

    [Fact]
    public void VersionSymbolOutsideEverySectionIsAbsolute()
    {
        var s = Elf.FindSymbol("LINUX_2.5")!;
        Assert.Equal(ElfSectionIndex.SHN_ABS, s.SectionIndex);
        Assert.Equal(ElfSymbolType.STT_OBJECT, s.Type);
        Assert.Equal(0UL, s.Value);
    }

    [Fact]
    public void DynsymHoldsTheNullSymbolThenTheExportsInTheOrderAdded()
    {
        Assert.Equal(["", "__kernel_vsyscall", "__kernel_sigreturn", "__kernel_rt_sigreturn", "LINUX_2.5"],
            Elf.DynamicSymbols.Select(s => s.Name));
        var nul = Elf.DynamicSymbols[0];
        Assert.Equal((0UL, 0UL, ElfSectionIndex.SHN_UNDEF), (nul.Value, nul.Size, nul.SectionIndex));
    }

    [Fact]
    public void SectionsAreInFileOrderWithTheirTypesAndFlags()
    {
        const ElfSectionFlags A = ElfSectionFlags.SHF_ALLOC, AX = A | ElfSectionFlags.SHF_EXECINSTR;
        var expected = new (string, ElfSectionType, ElfSectionFlags)[]
        {
            ("", ElfSectionType.SHT_NULL, 0),
            (".hash", ElfSectionType.SHT_HASH, A),
            (".dynsym", ElfSectionType.SHT_DYNSYM, A),
            (".dynstr", ElfSectionType.SHT_STRTAB, A),
            (".dynamic", ElfSectionType.SHT_DYNAMIC, A),
            (".note", ElfSectionType.SHT_NOTE, A),
            (".eh_frame_hdr", ElfSectionType.SHT_PROGBITS, A),
            (".eh_frame", ElfSectionType.SHT_PROGBITS, A),
            (".text", ElfSectionType.SHT_PROGBITS, AX),
            (".symtab", ElfSectionType.SHT_SYMTAB, 0),
            (".strtab", ElfSectionType.SHT_STRTAB, 0),
            (".shstrtab", ElfSectionType.SHT_STRTAB, 0),
        };
        Assert.Equal(expected, Elf.Sections.Select(s => (s.Name, s.Type, s.Flags)));
        Assert.Equal(Elf.Sections.Count - 1, Elf.Header.SectionNameTableIndex);
        // File order is offset order, and nothing overlaps.
        var withBytes = Elf.Sections.Skip(1).ToArray();
        for (int i = 1; i < withBytes.Length; i++)
            Assert.True(withBytes[i].Offset >= withBytes[i - 1].Offset + withBytes[i - 1].Size, withBytes[i].Name);
    }

    [Fact]
    public void EverySectionIsWhereTheLayoutSaid()
    {
        foreach (var p in Vdso.Layout.Sections)
        {
            var s = Elf.GetSection(p.Name)!;
            Assert.Equal((ulong)p.Offset, s.Offset);
            Assert.Equal((ulong)p.Address, s.Address);
            Assert.Equal((ulong)p.Size, s.Size);
            Assert.Equal((ulong)p.Alignment, s.AddressAlignment);
            Assert.Equal(0UL, s.Address % Math.Max(1, s.AddressAlignment));
        }
        var text = Elf.GetSection(".text")!;
        Assert.Equal((ulong)TestVdso.TextOffset, text.Offset);
        Assert.Equal((ulong)Vdso.Layout.TextAddress, text.Address);
        Assert.Equal(Vdso.Text, text.Bytes.ToArray());
    }

    [Fact]
    public void AddedSectionsHoldExactlyTheBytesGiven()
    {
        Assert.Equal(TestVdso.Note, Elf.GetSection(".note")!.Bytes.ToArray());
        Assert.Equal(Vdso.EhFrame, Elf.GetSection(".eh_frame")!.Bytes.ToArray());
        Assert.Equal(Vdso.EhFrameHdr, Elf.GetSection(".eh_frame_hdr")!.Bytes.ToArray());
    }

    [Fact]
    public void DynamicLinkingSectionsLinkToEachOther()
    {
        int Index(string name) => Elf.GetSection(name)!.Index;
        var hash = Elf.GetSection(".hash")!;
        var dynsym = Elf.GetSection(".dynsym")!;
        var dynamic = Elf.GetSection(".dynamic")!;
        Assert.Equal((uint)Index(".dynsym"), hash.Link);
        Assert.Equal(4UL, hash.EntrySize);
        Assert.Equal((uint)Index(".dynstr"), dynsym.Link);
        Assert.Equal(1u, dynsym.Info); // only the null symbol is local
        Assert.Equal(16UL, dynsym.EntrySize);
        Assert.Equal((uint)Index(".dynstr"), dynamic.Link);
        Assert.Equal(8UL, dynamic.EntrySize);
        Assert.Equal((uint)Index(".strtab"), Elf.GetSection(".symtab")!.Link);
    }

    [Fact]
    public void OneReadExecuteLoadSegmentCoversTheWholeImage()
    {
        var load = Assert.Single(Elf.LoadSegments);
        Assert.Equal(ElfSegmentFlags.PF_R | ElfSegmentFlags.PF_X, load.Flags);
        Assert.Equal(0UL, load.Offset);
        Assert.Equal((ulong)Vdso.Layout.LoadAddress, load.VirtualAddress);
        Assert.Equal((ulong)Vdso.Image.Length, load.FileSize);
        Assert.Equal(load.FileSize, load.MemorySize);
        Assert.Equal(0x1000UL, load.Alignment);
    }

    [Fact]
    public void DynamicNoteAndEhFrameHeaderEachHaveTheirProgramHeader()
    {
        Assert.Equal(
            [ElfSegmentType.PT_LOAD, ElfSegmentType.PT_DYNAMIC, ElfSegmentType.PT_NOTE, ElfSegmentType.PT_GNU_EH_FRAME],
            Elf.Segments.Select(s => s.Type));
        foreach (var (type, name) in new[]
                 {
                     (ElfSegmentType.PT_DYNAMIC, ".dynamic"), (ElfSegmentType.PT_NOTE, ".note"),
                     (ElfSegmentType.PT_GNU_EH_FRAME, ".eh_frame_hdr"),
                 })
        {
            var seg = Elf.Segments.Single(s => s.Type == type);
            var sec = Elf.GetSection(name)!;
            Assert.Equal((sec.Offset, sec.Address, sec.Size, sec.Size), (seg.Offset, seg.VirtualAddress, seg.FileSize, seg.MemorySize));
            Assert.Equal(ElfSegmentFlags.PF_R, seg.Flags);
        }
    }

    [Fact]
    public void DynamicArrayPointsAtTheTablesBySoName()
    {
        var d = Elf.DynamicEntries.ToDictionary(e => e.Tag, e => e.Value);
        Assert.Equal(
            [ElfDynamicTag.DT_SONAME, ElfDynamicTag.DT_HASH, ElfDynamicTag.DT_STRTAB, ElfDynamicTag.DT_SYMTAB,
             ElfDynamicTag.DT_STRSZ, ElfDynamicTag.DT_SYMENT],
            Elf.DynamicEntries.Select(e => e.Tag));
        Assert.Equal(Elf.GetSection(".hash")!.Address, d[ElfDynamicTag.DT_HASH]);
        Assert.Equal(Elf.GetSection(".dynstr")!.Address, d[ElfDynamicTag.DT_STRTAB]);
        Assert.Equal(Elf.GetSection(".dynsym")!.Address, d[ElfDynamicTag.DT_SYMTAB]);
        Assert.Equal(Elf.GetSection(".dynstr")!.Size, d[ElfDynamicTag.DT_STRSZ]);
        Assert.Equal(16UL, d[ElfDynamicTag.DT_SYMENT]);
        var dynstr = Elf.GetSection(".dynstr")!.Bytes.Span[(int)d[ElfDynamicTag.DT_SONAME]..];
        Assert.Equal(TestVdso.SoName, System.Text.Encoding.ASCII.GetString(dynstr[..dynstr.IndexOf((byte)0)]));
    }

    [Theory]
    // A loader finds exports through .hash; every export must be reachable from its bucket.
    [InlineData("__kernel_vsyscall", true)]
    [InlineData("__kernel_sigreturn", true)]
    [InlineData("__kernel_rt_sigreturn", true)]
    [InlineData("LINUX_2.5", true)]
    // Not exported, so not in the hash table's symbol table.
    [InlineData("int80_landing_pad", false)]
    // Not there at all.
    [InlineData("__vdso_clock_gettime", false)]
    public void HashTableFindsExactlyTheExports(string name, bool found)
    {
        Assert.True(Elf.HasSysvHashTable);
        var s = Elf.LookupDynamicSymbol(name);
        Assert.Equal(found, s is not null);
        if (found) Assert.Equal(name, s!.Name);
    }

    [Fact]
    public void HashTableHasOneChainEntryPerDynamicSymbol()
    {
        var h = Elf.GetSection(".hash")!.Bytes.Span;
        uint nbucket = BinaryPrimitives.ReadUInt32LittleEndian(h), nchain = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
        Assert.Equal((uint)Elf.DynamicSymbols.Count, nchain);
        Assert.Equal((ulong)(4 * (2 + nbucket + nchain)), Elf.GetSection(".hash")!.Size);
    }

    [Fact]
    public void EhFrameHeaderAndFdesResolveToTheFunctions()
    {
        // Decode the PC-relative fields from the image as an unwinder would; they land on the functions only if
        // the addresses Layout() gave were the final ones.
        var hdrSec = Elf.GetSection(".eh_frame_hdr")!;
        var ehSec = Elf.GetSection(".eh_frame")!;
        var hdr = hdrSec.Bytes.Span;
        uint hdrAddr = (uint)hdrSec.Address, ehAddr = (uint)ehSec.Address;
        Assert.Equal(1, hdr[0]);
        Assert.Equal(ehAddr, (uint)(hdrAddr + 4 + BinaryPrimitives.ReadInt32LittleEndian(hdr[4..])));
        int count = BinaryPrimitives.ReadInt32LittleEndian(hdr[8..]);
        Assert.Equal(3, count);

        var functions = new[] { "__kernel_vsyscall", "__kernel_sigreturn", "__kernel_rt_sigreturn" }.Select(n => Elf.FindSymbol(n)!).ToArray();
        var eh = ehSec.Bytes.Span;
        for (int i = 0; i < count; i++)
        {
            uint pc = (uint)(hdrAddr + BinaryPrimitives.ReadInt32LittleEndian(hdr[(12 + 8 * i)..]));
            uint fde = (uint)(hdrAddr + BinaryPrimitives.ReadInt32LittleEndian(hdr[(16 + 8 * i)..]));
            var f = functions[i]; // the table is sorted by pc, which is also the order of the functions in .text
            Assert.Equal((uint)f.Value, pc);
            int at = (int)(fde - ehAddr);
            uint pcBegin = (uint)(ehAddr + at + 8 + BinaryPrimitives.ReadInt32LittleEndian(eh[(at + 8)..]));
            Assert.Equal((uint)f.Value, pcBegin);
            Assert.Equal((uint)f.Size, BinaryPrimitives.ReadUInt32LittleEndian(eh[(at + 12)..]));
            Assert.Equal(at + 4, BinaryPrimitives.ReadInt32LittleEndian(eh[(at + 4)..])); // CIE pointer back to offset 0
        }
    }

    [Fact]
    public void AtAHighLoadAddressOnlyAddressesMove()
    {
        // 0xffffe000: where i386 kernels mapped the vDSO before it was randomised. Same offsets, same bytes of
        // code, addresses shifted by the load address; the PT_LOAD still starts at file offset 0.
        const uint load = 0xffff_e000;
        var high = TestVdso.Build(load);
        var elf = new ElfReader(high.Image);
        Assert.Equal(Vdso.Image.Length, high.Image.Length);
        foreach (var s in Elf.Sections)
        {
            var h = elf.Sections[s.Index];
            Assert.Equal((s.Name, s.Offset, s.Size), (h.Name, h.Offset, h.Size));
            Assert.Equal(s.IsAllocated ? s.Address + load : 0, h.Address);
        }
        foreach (var s in Elf.Symbols.Where(s => s.SectionIndex != ElfSectionIndex.SHN_ABS && s.Index > 0))
            Assert.Equal(s.Value + load, elf.FindSymbol(s.Name)!.Value);
        Assert.Equal((ulong)load, Assert.Single(elf.LoadSegments).VirtualAddress);
        Assert.Equal(Elf.Entry + load, elf.Entry);
    }
}
