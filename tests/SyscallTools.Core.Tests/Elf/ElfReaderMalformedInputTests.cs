using System.Buffers.Binary;
using SyscallTools.Core.Elf;
using Xunit;
using Xunit.Abstractions;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// Bad input must give an <see cref="ElfFormatException"/> that says what is wrong, or a valid parse — never
/// another exception and never a hang. A vDSO image can come from outside (a file, a dump of another machine's
/// memory), so the reader is held to that for every truncation, for random damage, and for each field that
/// states a count or an offset.
/// </summary>
public class ElfReaderMalformedInputTests(ITestOutputHelper output)
{
    /// <summary>Parses, and on success touches every lookup, so a bad table cannot hide in a lazy path.</summary>
    private static bool ParsesOrIsFormatError(byte[] bytes, IEnumerable<string> names)
    {
        try
        {
            var elf = new ElfReader(bytes);
            foreach (var n in names)
            {
                _ = elf.FindSymbol(n);
                _ = elf.LookupDynamicSymbol(n);
                _ = elf.GetSection(n);
            }
            foreach (var s in elf.LoadSegments) _ = s.Bytes.Span.Length;
            return true;
        }
        catch (ElfFormatException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return false;
        }
    }

    private static string[] NamesIn(byte[] image)
    {
        var elf = new ElfReader(image);
        return elf.Sections.Select(s => s.Name).Concat(elf.Symbols.Concat(elf.DynamicSymbols).Select(s => s.Name)).Distinct().ToArray();
    }

    [Theory]
    [MemberData(nameof(TestImages.All), MemberType = typeof(TestImages))]
    public void EveryTruncationIsAFormatError(string image)
    {
        var full = TestImages.Load(image);
        var names = NamesIn(full);
        var h = new ElfReader(full).Header;
        // Nothing past the section header table is needed; everything before its end is.
        ulong needed = h.SectionHeaderOffset + (ulong)h.SectionHeaderCount * h.SectionHeaderEntrySize;
        for (int length = 0; length < full.Length; length++)
        {
            var cut = full.AsSpan(0, length).ToArray();
            if ((ulong)length < needed) Assert.Throws<ElfFormatException>(() => new ElfReader(cut));
            else ParsesOrIsFormatError(cut, names);
        }
        Assert.True(ParsesOrIsFormatError(full, names));
        output.WriteLine($"{image}: {full.Length} truncations, all before 0x{needed:x} rejected");
    }

    [Theory]
    [MemberData(nameof(TestImages.All), MemberType = typeof(TestImages))]
    public void RandomDamageIsAFormatErrorOrAValidParse(string image)
    {
        var original = TestImages.Load(image);
        var names = NamesIn(original);
        var rng = new Random(0x5eed_e1f + image.Length); // fixed per image, so a failure reproduces
        int parsed = 0, rejected = 0;
        for (int round = 0; round < 3000; round++)
        {
            var bytes = (byte[])original.Clone();
            int edits = rng.Next(1, 5);
            for (int e = 0; e < edits; e++)
            {
                int at = rng.Next(bytes.Length);
                switch (rng.Next(3))
                {
                    case 0: bytes[at] ^= (byte)rng.Next(1, 256); break;                       // flip bits
                    case 1: bytes[at] = new byte[] { 0x00, 0x7f, 0x80, 0xff }[rng.Next(4)]; break; // boundary byte
                    default:                                                                   // a huge or odd word
                        at &= ~3;
                        if (at + 4 <= bytes.Length)
                            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), new[] { 0xffff_ffffu, 0x8000_0000u, 0x7fff_fff0u, (uint)rng.Next() }[rng.Next(4)]);
                        break;
                }
            }
            if (ParsesOrIsFormatError(bytes, names)) parsed++;
            else rejected++;
        }
        output.WriteLine($"{image}: {parsed} damaged copies parsed, {rejected} rejected");
        Assert.True(parsed > 0 && rejected > 0, "the damage should sometimes matter and sometimes not");
    }

    // Field offsets in Elf32_Ehdr, Elf32_Shdr, Elf32_Phdr (gABI).
    private const int E_PHOFF = 28, E_SHOFF = 32, E_PHENTSIZE = 42, E_PHNUM = 44, E_SHENTSIZE = 46, E_SHNUM = 48, E_SHSTRNDX = 50;
    private const int SH_NAME = 0, SH_TYPE = 4, SH_OFFSET = 16, SH_SIZE = 20, SH_LINK = 24, SH_ENTSIZE = 36;
    private const int P_VADDR = 8, P_FILESZ = 16, P_MEMSZ = 20;

    [Theory]
    // e_ident: each identifying byte the reader insists on.
    [InlineData("magic", "not an ELF file")]
    [InlineData("class 3", "EI_CLASS")]
    [InlineData("big-endian", "little-endian")]
    [InlineData("ident version 0", "EI_VERSION")]
    // File header fields that locate or size the tables.
    [InlineData("e_shoff past the end", "lies outside the file")]
    [InlineData("e_shnum 0xffff", "section header table lies outside the file")]
    [InlineData("e_phoff past the end", "program header table lies outside the file")]
    [InlineData("e_phnum 0xfffe", "program header table lies outside the file")]
    [InlineData("e_shentsize 1", "e_shentsize is 1, smaller than Elf32_Shdr (40 bytes)")]
    [InlineData("e_phentsize 8", "e_phentsize is 8, smaller than Elf32_Phdr (32 bytes)")]
    [InlineData("e_shstrndx 0x7000", "e_shstrndx 28672 is not a section")]
    [InlineData("e_shoff 0 with sections", "e_shnum is 12 but e_shoff is 0")]
    // Section headers: offsets, sizes, links, entry sizes, names.
    [InlineData("shstrtab is NOBITS", "has no bytes in the file")]
    [InlineData(".dynsym offset past the end", "section [2] .dynsym lies outside the file")]
    [InlineData(".dynsym size 4 GiB", "section [2] .dynsym lies outside the file")]
    [InlineData(".dynsym link 0x1234", "sh_link 4660, which is not a section")]
    [InlineData(".dynsym link to section 0", "which has no bytes in the file")]
    [InlineData(".dynsym entsize 0", "sh_entsize 0, smaller than Elf32_Sym (16 bytes)")]
    [InlineData("section name offset past .shstrtab", "section [1]: name offset 0x7fffffff lies outside section-name string table")]
    // Symbol and string tables.
    [InlineData("symbol name offset past .dynstr", "symbol 1 of section [2] .dynsym: name offset 0xfffffff lies outside string table section [3] .dynstr")]
    [InlineData(".dynstr not NUL-terminated", "has no terminating NUL")]
    // The hash table's own counts.
    [InlineData(".hash nbucket 2^30", "is truncated: nbucket 1073741824")]
    [InlineData(".hash 4 bytes long", "too short for nbucket and nchain")]
    // Program headers.
    [InlineData("PT_LOAD filesz 4 GiB", "program header 0 (PT_LOAD) lies outside the file")]
    [InlineData("PT_LOAD memsz below filesz", "larger than p_memsz")]
    [InlineData("PT_LOAD past 4 GiB", "runs past the end of the address space")]
    public void BadFieldInBuiltImageIsNamedInTheError(string damage, string message)
    {
        var bytes = TestVdso.Build().Image;
        var elf = new ElfReader(bytes);
        int shoff = (int)elf.Header.SectionHeaderOffset;
        int Sh(string name, int field) => shoff + 40 * elf.GetSection(name)!.Index + field;
        void U16(int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), v);
        void U32(int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), v);
        switch (damage)
        {
            case "magic": bytes[1] = (byte)'e'; break;
            case "class 3": bytes[4] = 3; break;
            case "big-endian": bytes[5] = 2; break;
            case "ident version 0": bytes[6] = 0; break;
            case "e_shoff past the end": U32(E_SHOFF, 0xffff_fff0); break;
            case "e_shnum 0xffff": U16(E_SHNUM, 0xffff); break;
            case "e_phoff past the end": U32(E_PHOFF, 0xffff_ff00); break;
            case "e_phnum 0xfffe": U16(E_PHNUM, 0xfffe); break;
            case "e_shentsize 1": U16(E_SHENTSIZE, 1); break;
            case "e_phentsize 8": U16(E_PHENTSIZE, 8); break;
            case "e_shstrndx 0x7000": U16(E_SHSTRNDX, 0x7000); break;
            case "e_shoff 0 with sections": U32(E_SHOFF, 0); break;
            case "shstrtab is NOBITS": U32(Sh(".shstrtab", SH_TYPE), (uint)ElfSectionType.SHT_NOBITS); break;
            case ".dynsym offset past the end": U32(Sh(".dynsym", SH_OFFSET), 0xffff_ff00); break;
            case ".dynsym size 4 GiB": U32(Sh(".dynsym", SH_SIZE), 0xffff_fff0); break;
            case ".dynsym link 0x1234": U32(Sh(".dynsym", SH_LINK), 0x1234); break;
            case ".dynsym link to section 0": U32(Sh(".dynsym", SH_LINK), 0); break;
            case ".dynsym entsize 0": U32(Sh(".dynsym", SH_ENTSIZE), 0); break;
            case "section name offset past .shstrtab": U32(shoff + 40 + SH_NAME, 0x7fff_ffff); break;
            case "symbol name offset past .dynstr": U32((int)elf.GetSection(".dynsym")!.Offset + 16, 0x0fff_ffff); break;
            case ".dynstr not NUL-terminated":
                var dynstr = elf.GetSection(".dynstr")!;
                bytes[(int)(dynstr.Offset + dynstr.Size - 1)] = (byte)'x';
                break;
            case ".hash nbucket 2^30": U32((int)elf.GetSection(".hash")!.Offset, 0x4000_0000); break;
            case ".hash 4 bytes long": U32(Sh(".hash", SH_SIZE), 4); break;
            case "PT_LOAD filesz 4 GiB": U32(52 + P_FILESZ, 0xffff_f000); break;
            case "PT_LOAD memsz below filesz": U32(52 + P_MEMSZ, 0x10); break;
            case "PT_LOAD past 4 GiB": U32(52 + P_VADDR, 0xffff_ff00); break;
            default: throw new ArgumentException(damage);
        }
        var e = Assert.Throws<ElfFormatException>(() => new ElfReader(bytes));
        output.WriteLine(e.Message);
        Assert.Contains(message, e.Message);
    }

    // Field offsets in Elf64_Ehdr, Elf64_Shdr, Elf64_Phdr.
    private const int E64_SHOFF = 40, E64_SHNUM = 60, SH64_OFFSET = 24, SH64_SIZE = 32, P64_VADDR = 16, P64_MEMSZ = 40;

    [Theory]
    // Offsets near 2^64: offset + size must be compared without wrapping around.
    [InlineData("e_shoff 2^64 - 16", "lies outside the file")]
    [InlineData(".text offset 2^63", "section [4] .text lies outside the file")]
    [InlineData(".text size 2^64 - 1", "section [4] .text lies outside the file")]
    // Extended numbering: e_shnum 0 sends the reader to section 0's sh_size, which claims 2^64 - 1 sections.
    [InlineData("extended shnum 2^64 - 1", "section header table is impossibly large")]
    // A segment whose last byte would be past 2^64.
    [InlineData("PT_LOAD past 2^64", "runs past the end of the address space")]
    public void BadFieldInElf64ImageIsNamedInTheError(string damage, string message)
    {
        var bytes = File.ReadAllBytes(TestImages.PathOf(TestImages.Tiny64));
        var elf = new ElfReader(bytes);
        int shoff = (int)elf.Header.SectionHeaderOffset;
        void U64(int at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), v);
        switch (damage)
        {
            case "e_shoff 2^64 - 16": U64(E64_SHOFF, ulong.MaxValue - 15); break;
            case ".text offset 2^63": U64(shoff + 64 * 4 + SH64_OFFSET, 1UL << 63); break;
            case ".text size 2^64 - 1": U64(shoff + 64 * 4 + SH64_SIZE, ulong.MaxValue); break;
            case "extended shnum 2^64 - 1":
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(E64_SHNUM), 0);
                U64(shoff + SH64_SIZE, ulong.MaxValue);
                break;
            case "PT_LOAD past 2^64":
                U64(64 + P64_VADDR, 0xffff_ffff_ffff_f000);
                U64(64 + P64_MEMSZ, 0x2000);
                break;
            default: throw new ArgumentException(damage);
        }
        Assert.Equal(".text", elf.Sections[4].Name); // the rows above aim at section 4
        var e = Assert.Throws<ElfFormatException>(() => new ElfReader(bytes));
        output.WriteLine(e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ExtendedSectionNumberingReadsTheCountsFromSectionZero()
    {
        // gABI: with e_shnum = 0 the count is section 0's sh_size, with e_shstrndx = SHN_XINDEX the index is its
        // sh_link. Rewriting a valid image that way must read back the same sections.
        var bytes = TestVdso.Build().Image;
        var before = new ElfReader(bytes);
        int shoff = (int)before.Header.SectionHeaderOffset;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(E_SHNUM), 0);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(E_SHSTRNDX), ElfSectionIndex.SHN_XINDEX);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(shoff + SH_SIZE), (uint)before.Sections.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(shoff + SH_LINK), (uint)before.Header.SectionNameTableIndex);
        var after = new ElfReader(bytes);
        Assert.Equal(before.Sections.Select(s => (s.Name, s.Offset)), after.Sections.Select(s => (s.Name, s.Offset)));
        Assert.Equal(before.Header.SectionNameTableIndex, after.Header.SectionNameTableIndex);
    }

    [Fact]
    public void HashChainThatLoopsEndsTheLookup()
    {
        // Every bucket points at symbol 1, whose chain points back at itself: a lookup for symbol 1 succeeds,
        // a lookup for anything else must give up rather than spin.
        var bytes = TestVdso.Build().Image;
        var elf = new ElfReader(bytes);
        var hash = elf.GetSection(".hash")!.Bytes.Span;
        int at = (int)elf.GetSection(".hash")!.Offset;
        uint nbucket = BinaryPrimitives.ReadUInt32LittleEndian(hash);
        for (int i = 0; i < nbucket; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 8 + 4 * i), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 8 + 4 * (int)nbucket + 4), 1);
        var looped = new ElfReader(bytes);
        Assert.Equal("__kernel_vsyscall", looped.LookupDynamicSymbol("__kernel_vsyscall")?.Name);
        Assert.Null(looped.LookupDynamicSymbol("__kernel_sigreturn"));
    }

    [Fact]
    public void HashBucketPointingPastTheSymbolsFindsNothing()
    {
        var bytes = TestVdso.Build().Image;
        var elf = new ElfReader(bytes);
        int at = (int)elf.GetSection(".hash")!.Offset;
        uint nbucket = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
        for (int i = 0; i < nbucket; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 8 + 4 * i), 0x7fff_ffff);
        var broken = new ElfReader(bytes);
        Assert.Null(broken.LookupDynamicSymbol("__kernel_vsyscall"));
        Assert.NotNull(broken.FindSymbol("__kernel_vsyscall")); // the linear search does not need the table
    }

    [Fact]
    public void EmptyAndNonElfInputsAreFormatErrors()
    {
        Assert.Contains("too short for e_ident", Assert.Throws<ElfFormatException>(() => new ElfReader([])).Message);
        Assert.Contains("not an ELF file", Assert.Throws<ElfFormatException>(() => new ElfReader("#!/bin/sh\necho not elf\n"u8)).Message);
        // A valid e_ident and nothing else: the rest of Elf32_Ehdr is missing.
        var ident = TestVdso.Build().Image.AsSpan(0, 16).ToArray();
        Assert.Contains("Elf32_Ehdr", Assert.Throws<ElfFormatException>(() => new ElfReader(ident)).Message);
    }
}
