using SyscallTools.Core.Elf;
using Xunit;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// Images made by GNU as and ld (Elf/Images, built as its README says): the reader must find what the real
/// toolchain wrote, including what our builder never writes — two PT_LOADs, .data, SHT_NOBITS .bss, weak
/// symbols, ELF64, ET_EXEC. The addresses are the ones those ld runs chose.
/// </summary>
public class ElfReaderToolchainImageTests
{
    private static ElfReader Read(string name) => new(File.ReadAllBytes(TestImages.PathOf(name)));

    [Theory]
    [InlineData(TestImages.Tiny32, ElfClass.ELFCLASS32, ElfMachine.EM_386, ElfType.ET_DYN, 0x0UL)]
    [InlineData(TestImages.Tiny64, ElfClass.ELFCLASS64, ElfMachine.EM_X86_64, ElfType.ET_DYN, 0x0UL)]
    // A static program is entered at _start, at its link address.
    [InlineData(TestImages.Static32, ElfClass.ELFCLASS32, ElfMachine.EM_386, ElfType.ET_EXEC, 0x0804_8074UL)]
    public void FileHeaderSaysClassMachineTypeAndEntry(string image, ElfClass cls, ElfMachine machine, ElfType type, ulong entry)
    {
        var elf = Read(image);
        Assert.Equal((cls, machine, type, entry), (elf.Class, elf.Machine, elf.Type, elf.Entry));
    }

    [Theory]
    // name, value, size, type, binding, section name, in .dynsym
    [InlineData(TestImages.Tiny32, "__kernel_vsyscall", 0x17fUL, 13UL, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL, ".text", true)]
    [InlineData(TestImages.Tiny32, "__kernel_sigreturn", 0x18cUL, 8UL, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL, ".text", true)]
    [InlineData(TestImages.Tiny32, "__kernel_rt_sigreturn", 0x194UL, 7UL, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL, ".text", true)]
    // A local label is kept in .symtab only.
    [InlineData(TestImages.Tiny32, "int80_landing_pad", 0x188UL, 0UL, ElfSymbolType.STT_NOTYPE, ElfSymbolBinding.STB_LOCAL, ".text", false)]
    [InlineData(TestImages.Tiny32, "tiny_counter", 0x11fcUL, 4UL, ElfSymbolType.STT_OBJECT, ElfSymbolBinding.STB_GLOBAL, ".data", true)]
    // An object in SHT_NOBITS: defined, with a size, but no file bytes behind it.
    [InlineData(TestImages.Tiny32, "tiny_buffer", 0x1200UL, 64UL, ElfSymbolType.STT_OBJECT, ElfSymbolBinding.STB_GLOBAL, ".bss", true)]
    [InlineData(TestImages.Tiny64, "__vdso_getpid", 0x1e6UL, 8UL, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL, ".text", true)]
    // A weak alias shares its target's address, as time does __vdso_time in a real 64-bit vDSO.
    [InlineData(TestImages.Tiny64, "time", 0x1eeUL, 8UL, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_WEAK, ".text", true)]
    [InlineData(TestImages.Tiny64, "__vdso_time", 0x1eeUL, 8UL, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL, ".text", true)]
    [InlineData(TestImages.Tiny64, "tiny_buffer", 0x12c0UL, 128UL, ElfSymbolType.STT_OBJECT, ElfSymbolBinding.STB_GLOBAL, ".bss", true)]
    // A static program has no .dynsym; its symbols are all in .symtab.
    [InlineData(TestImages.Static32, "_start", 0x0804_8074UL, 12UL, ElfSymbolType.STT_FUNC, ElfSymbolBinding.STB_GLOBAL, ".text", false)]
    [InlineData(TestImages.Static32, "scratch", 0x0804_9080UL, 256UL, ElfSymbolType.STT_OBJECT, ElfSymbolBinding.STB_GLOBAL, ".bss", false)]
    public void FindSymbolReturnsWhatLdWrote(string image, string name, ulong value, ulong size, ElfSymbolType type,
        ElfSymbolBinding binding, string section, bool dynamic)
    {
        var elf = Read(image);
        var s = elf.FindSymbol(name)!;
        Assert.Equal((name, value, size, type, binding, dynamic), (s.Name, s.Value, s.Size, s.Type, s.Binding, s.IsDynamic));
        Assert.Equal(section, elf.Sections[s.SectionIndex].Name);
        // ld puts every global in .symtab too.
        Assert.Contains(elf.Symbols, t => t.Name == name && t.Value == value);
    }

    [Theory]
    [InlineData(TestImages.Tiny32)]
    [InlineData(TestImages.Tiny64)]
    public void DataSegmentEndsInBssThatTakesMemoryButNoFile(string image)
    {
        var elf = Read(image);
        var bss = elf.GetSection(".bss")!;
        Assert.Equal(ElfSectionType.SHT_NOBITS, bss.Type);
        Assert.False(bss.HasFileBytes);
        Assert.True(bss.Bytes.IsEmpty);
        Assert.True(bss.Size > 0);
        Assert.Equal(2, elf.LoadSegments.Count);
        var (code, data) = (elf.LoadSegments[0], elf.LoadSegments[1]);
        Assert.Equal(ElfSegmentFlags.PF_R | ElfSegmentFlags.PF_X, code.Flags);
        Assert.Equal(ElfSegmentFlags.PF_R | ElfSegmentFlags.PF_W, data.Flags);
        Assert.Equal(0UL, code.Offset);
        // .bss is the tail of the data segment: in memory, not in the file.
        Assert.Equal(data.VirtualAddress + data.MemorySize, bss.Address + bss.Size);
        Assert.True(data.MemorySize > data.FileSize);
        Assert.Equal((int)data.FileSize, data.Bytes.Length);
    }

    [Fact]
    public void Tiny32SectionsAndSegmentsAreWhereLdPutThem()
    {
        var elf = Read(TestImages.Tiny32);
        Assert.Equal(
            ["", ".hash", ".dynsym", ".dynstr", ".text", ".eh_frame", ".dynamic", ".data", ".bss", ".symtab", ".strtab", ".shstrtab"],
            elf.Sections.Select(s => s.Name));
        var text = elf.GetSection(".text")!;
        Assert.Equal((0x17fUL, 0x17fUL, 0x1cUL), (text.Address, text.Offset, text.Size));
        // push ecx; push edx; push ebp; mov ebp,esp; sysenter — the start of __kernel_vsyscall as assembled.
        Assert.Equal(new byte[] { 0x51, 0x52, 0x55, 0x89, 0xe5, 0x0f, 0x34 }, text.Bytes[..7].ToArray());
        // An empty section still has a name and a place.
        Assert.Equal(0UL, elf.GetSection(".eh_frame")!.Size);
        Assert.Equal(
            [(ElfSegmentType.PT_LOAD, 0x0UL, 0x0UL, 0x19cUL, 0x19cUL), (ElfSegmentType.PT_LOAD, 0x19cUL, 0x119cUL, 0x64UL, 0xa4UL),
             (ElfSegmentType.PT_DYNAMIC, 0x19cUL, 0x119cUL, 0x60UL, 0x60UL)],
            elf.Segments.Select(s => (s.Type, s.Offset, s.VirtualAddress, s.FileSize, s.MemorySize)));
        Assert.Equal(0x1000UL, elf.LoadSegments[0].Alignment);
    }

    [Fact]
    public void Tiny64DynamicArrayNamesItsTables()
    {
        var elf = Read(TestImages.Tiny64);
        var d = elf.DynamicEntries.ToDictionary(e => e.Tag, e => e.Value);
        Assert.Equal(elf.GetSection(".hash")!.Address, d[ElfDynamicTag.DT_HASH]);
        Assert.Equal(elf.GetSection(".dynsym")!.Address, d[ElfDynamicTag.DT_SYMTAB]);
        Assert.Equal(elf.GetSection(".dynstr")!.Address, d[ElfDynamicTag.DT_STRTAB]);
        Assert.Equal(24UL, d[ElfDynamicTag.DT_SYMENT]); // sizeof(Elf64_Sym)
        Assert.True(d.ContainsKey(ElfDynamicTag.DT_SONAME));
    }

    [Fact]
    public void StaticProgramHasNoDynamicLinkingAndIsEnteredInItsCode()
    {
        var elf = Read(TestImages.Static32);
        Assert.Empty(elf.DynamicSymbols);
        Assert.Empty(elf.DynamicEntries);
        Assert.False(elf.HasSysvHashTable);
        Assert.Null(elf.LookupDynamicSymbol("_start"));
        // p_vaddr and p_offset agree modulo p_align, so each segment can be mapped straight from the file.
        Assert.All(elf.LoadSegments, s => Assert.Equal(s.Offset % s.Alignment, s.VirtualAddress % s.Alignment));
        var text = elf.LoadSegments.Single(s => s.IsExecutable);
        Assert.InRange(elf.Entry, text.VirtualAddress, text.VirtualAddress + text.MemorySize - 1);
    }

    [Theory]
    [InlineData(TestImages.Tiny32, "__kernel_vsyscall")]
    [InlineData(TestImages.Tiny32, "__kernel_sigreturn")]
    [InlineData(TestImages.Tiny32, "__kernel_rt_sigreturn")]
    [InlineData(TestImages.Tiny32, "tiny_counter")]
    [InlineData(TestImages.Tiny32, "tiny_buffer")]
    [InlineData(TestImages.Tiny64, "__vdso_getpid")]
    [InlineData(TestImages.Tiny64, "__vdso_time")]
    [InlineData(TestImages.Tiny64, "time")]
    [InlineData(TestImages.Tiny64, "tiny_counter")]
    [InlineData(TestImages.Tiny64, "tiny_buffer")]
    public void OurHashFunctionFindsEverySymbolThroughLdsHashTable(string image, string name)
    {
        // ld computed these buckets with its own ELF hash; following them with ours reaches the symbol only if
        // the two functions agree. More than one bucket, or any hash would do.
        var elf = Read(image);
        Assert.True(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(elf.GetSection(".hash")!.Bytes.Span) > 1);
        Assert.Equal(name, elf.LookupDynamicSymbol(name)?.Name);
    }

    [Fact]
    public void ASymbolOnlyInSymtabIsNotInTheHashTable()
    {
        var elf = Read(TestImages.Tiny32);
        Assert.NotNull(elf.FindSymbol("int80_landing_pad"));
        Assert.Null(elf.LookupDynamicSymbol("int80_landing_pad"));
    }

    [Fact]
    public void UnknownNamesAreNull()
    {
        var elf = Read(TestImages.Tiny64);
        Assert.Null(elf.FindSymbol("__vdso_clock_gettime"));
        Assert.Null(elf.FindSymbol(""));
        Assert.Null(elf.GetSection(".gnu.hash")); // --hash-style=sysv
        Assert.Null(elf.LookupDynamicSymbol("__vdso_clock_gettime"));
    }
}
