using SyscallTools.Core.Elf;
using Xunit;
using Xunit.Abstractions;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// GNU binutils as an independent judge: readelf must read the built vDSO without a warning and agree with it,
/// objdump must disassemble its .text at the symbols' addresses, and readelf's view of every test image must
/// match <see cref="ElfReader"/>'s. Each test returns early, and says so in its output, when the tool is missing;
/// "OrReportsMissing" in a name marks such a test.
/// </summary>
public class ElfBinutilsTests(ITestOutputHelper output)
{
    private string? Tool(string name)
    {
        var path = Binutils.Find(name);
        if (path is null) output.WriteLine($"SKIPPED: '{name}' is not on PATH, so binutils could not check this image.");
        return path;
    }

    private static Binutils.Result Readelf(string readelf, byte[] image, params string[] args) =>
        Binutils.WithTempFile(image, path => Binutils.Run(readelf, [.. args, path]));

    [Theory]
    [InlineData(0u)]
    [InlineData(0xffff_e000u)]
    public void ReadelfReadsTheBuiltVdsoWithoutComplaintOrReportsMissing(uint loadAddress)
    {
        if (Tool("readelf") is not string readelf) return;
        var vdso = TestVdso.Build(loadAddress);
        // --lint (binutils 2.35 and later) asks readelf for the extra consistency checks it knows.
        string[] lint = Binutils.Run(readelf, "--help").Out.Contains("--lint") ? ["--lint"] : [];
        var r = Readelf(readelf, vdso.Image, ["-hSs", "--dyn-syms", "-l", "-d", "-W", .. lint]);
        output.WriteLine(r.Out);
        Assert.Equal("", r.Err);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("DYN (Shared object file)", r.Out);
        Assert.Contains("Intel 80386", r.Out);
        Assert.Contains("Library soname: [linux-gate.so.1]", r.Out);
        string Hex(int textOffset) => vdso.Address(textOffset).ToString("x8");
        Assert.Contains($"{Hex(TestVdso.Vsyscall)}    13 FUNC    GLOBAL DEFAULT    8 __kernel_vsyscall", r.Out);
        Assert.Contains($"{Hex(TestVdso.Sigreturn)}     8 FUNC    GLOBAL DEFAULT    8 __kernel_sigreturn", r.Out);
        Assert.Contains($"{Hex(TestVdso.RtSigreturn)}     7 FUNC    GLOBAL DEFAULT    8 __kernel_rt_sigreturn", r.Out);
        Assert.Contains($"{Hex(TestVdso.LandingPad)}     0 NOTYPE  LOCAL  DEFAULT    8 int80_landing_pad", r.Out);
        Assert.Contains("Symbol table '.dynsym' contains 5 entries", r.Out);
    }

    [Fact]
    public void ReadelfAcceptsTheHashTableOrReportsMissing()
    {
        if (Tool("readelf") is not string readelf) return;
        // The histogram walks every bucket and chain; a table whose chains leave .dynsym draws an error.
        var r = Readelf(readelf, TestVdso.Build().Image, "-I", "-W");
        output.WriteLine(r.Out);
        Assert.Equal("", r.Err);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Histogram for bucket list length (total of 4 buckets)", r.Out);
        Assert.Contains("100.0%", r.Out); // every exported symbol is reached from some bucket
    }

    [Fact]
    public void ReadelfDecodesEachFdeOverItsFunctionOrReportsMissing()
    {
        if (Tool("readelf") is not string readelf) return;
        // The FDEs' pc_begin is PC-relative; readelf's pc= ranges prove it was encoded against the final address.
        var vdso = TestVdso.Build(0xffff_e000);
        var r = Readelf(readelf, vdso.Image, "--debug-dump=frames");
        output.WriteLine(r.Out);
        Assert.Equal("", r.Err);
        foreach (var (at, size) in new[] { (TestVdso.Vsyscall, TestVdso.VsyscallSize), (TestVdso.Sigreturn, TestVdso.SigreturnSize), (TestVdso.RtSigreturn, TestVdso.RtSigreturnSize) })
            Assert.Contains($"pc={vdso.Address(at):x8}..{vdso.Address(at) + size:x8}", r.Out);
        Assert.Contains("ZERO terminator", r.Out);
    }

    [Fact]
    public void ObjdumpDisassemblesTextAtTheSymbolsOrReportsMissing()
    {
        if (Tool("objdump") is not string objdump) return;
        var vdso = TestVdso.Build();
        var r = Binutils.WithTempFile(vdso.Image, path => Binutils.Run(objdump, "-d", "-j", ".text", path));
        output.WriteLine(r.Out);
        Assert.Equal("", r.Err);
        Assert.Contains("file format elf32-i386", r.Out);
        Assert.Contains($"{vdso.Address(TestVdso.Vsyscall):x8} <__kernel_vsyscall>:", r.Out);
        Assert.Contains($"{vdso.Address(TestVdso.LandingPad):x8} <int80_landing_pad>:", r.Out);
        Assert.Contains($"{vdso.Address(TestVdso.Sigreturn):x8} <__kernel_sigreturn>:", r.Out);
        Assert.Contains($"{vdso.Address(TestVdso.RtSigreturn):x8} <__kernel_rt_sigreturn>:", r.Out);
        Assert.Contains("sysenter", r.Out);
        Assert.Contains("int    $0x80", r.Out);
        Assert.Contains("mov    $0xad,%eax", r.Out); // __NR_rt_sigreturn
    }

    [Fact]
    public void LdLinksAProgramAgainstTheBuiltVdsoOrReportsMissing()
    {
        if (Tool("as") is not string asm || Tool("ld") is not string ld || Tool("readelf") is not string readelf) return;
        // A program calling __kernel_vsyscall links against the image as against any shared object: ld reads
        // .dynsym, takes DT_SONAME as the DT_NEEDED name, and leaves a PLT relocation for the loader.
        var dir = Directory.CreateTempSubdirectory("syscalltools-elf-");
        try
        {
            string Path_(string n) => Path.Combine(dir.FullName, n);
            File.WriteAllText(Path_("user.s"), ".globl _start\n_start:\n\tcall __kernel_vsyscall\n");
            File.WriteAllBytes(Path_("vdso.so"), TestVdso.Build().Image);
            var a = Binutils.Run(asm, "--32", "-o", Path_("user.o"), Path_("user.s"));
            Assert.True(a.ExitCode == 0, a.Err);
            var l = Binutils.Run(ld, "-m", "elf_i386", "-o", Path_("user"), Path_("user.o"), Path_("vdso.so"), "-dynamic-linker", "/lib/ld-linux.so.2");
            Assert.True(l.ExitCode == 0, l.Err);
            Assert.Equal("", l.Err);
            var r = Binutils.Run(readelf, "-dr", "-W", Path_("user"));
            output.WriteLine(r.Out);
            Assert.Contains("Shared library: [linux-gate.so.1]", r.Out);
            Assert.Contains("R_386_JUMP_SLOT", r.Out);
            Assert.Contains("__kernel_vsyscall", r.Out);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(TestImages.All), MemberType = typeof(TestImages))]
    public void ReaderAgreesWithReadelfOnEverySectionSegmentAndSymbolOrReportsMissing(string image)
    {
        if (Tool("readelf") is not string readelf) return;
        var bytes = TestImages.Load(image);
        var elf = new ElfReader(bytes);
        var r = Readelf(readelf, bytes, "-S", "-l", "-s", "--dyn-syms", "-W");
        Assert.Equal("", r.Err);

        var sections = ReadelfOutput.Sections(r.Out);
        Assert.Equal(elf.Sections.Count - 1, sections.Count);
        foreach (var s in sections)
        {
            var mine = elf.Sections[s.Index];
            Assert.Equal(s.Name, mine.Name);
            Assert.Equal(s.Type, ReadelfTypeName(mine.Type));
            Assert.Equal((s.Address, s.Offset, s.Size, s.EntrySize, s.Link, s.Info, s.Align),
                (mine.Address, mine.Offset, mine.Size, mine.EntrySize, mine.Link, mine.Info, mine.AddressAlignment));
        }

        var segments = ReadelfOutput.Segments(r.Out);
        Assert.Equal(elf.Segments.Count, segments.Count);
        for (int i = 0; i < segments.Count; i++)
        {
            var (s, mine) = (segments[i], elf.Segments[i]);
            Assert.Equal(s.Type, mine.Type.ToString()["PT_".Length..]);
            Assert.Equal((s.Offset, s.VirtualAddress, s.FileSize, s.MemorySize, s.Align),
                (mine.Offset, mine.VirtualAddress, mine.FileSize, mine.MemorySize, mine.Alignment));
            Assert.Equal(s.Flags, (mine.IsReadable ? "R" : "") + (mine.IsWritable ? "W" : "") + (mine.IsExecutable ? "E" : ""));
        }

        var symbols = ReadelfOutput.Symbols(r.Out);
        Assert.Equal(elf.DynamicSymbols.Count + elf.Symbols.Count, symbols.Count);
        foreach (var s in symbols)
        {
            var mine = (s.Table == ".dynsym" ? elf.DynamicSymbols : elf.Symbols)[s.Index];
            Assert.Equal((s.Name, s.Value, s.Size), (mine.Name, mine.Value, mine.Size));
            Assert.Equal(s.Type, mine.Type.ToString()["STT_".Length..]);
            Assert.Equal(s.Bind, mine.Binding.ToString()["STB_".Length..]);
            Assert.Equal(s.Ndx, mine.SectionIndex switch
            {
                ElfSectionIndex.SHN_UNDEF => "UND",
                ElfSectionIndex.SHN_ABS => "ABS",
                var n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        output.WriteLine($"{image}: {sections.Count} sections, {segments.Count} segments, {symbols.Count} symbols agree with readelf");
    }

    private static string ReadelfTypeName(ElfSectionType t) => t switch
    {
        ElfSectionType.SHT_GNU_versym => "VERSYM",
        ElfSectionType.SHT_GNU_verdef => "VERDEF",
        ElfSectionType.SHT_GNU_verneed => "VERNEED",
        _ => t.ToString()["SHT_".Length..],
    };
}
