using SyscallTools.Core.Elf;
using Xunit;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>The static executables the host probes are written as, read back with our own ElfReader.</summary>
public class ElfExecutableWriterTests
{
    [Theory]
    [InlineData(32, 0x0804_8000UL, 0x0806_0000UL, ElfClass.ELFCLASS32, ElfMachine.EM_386)]     // an i386 probe
    [InlineData(64, 0x40_0000UL, 0x60_0000UL, ElfClass.ELFCLASS64, ElfMachine.EM_X86_64)]      // an x86-64 probe
    public void Writes_an_executable_with_text_and_data_segments(int bits, ulong text, ulong data, ElfClass cls, ElfMachine machine)
    {
        byte[] code = [0x90, 0x90, 0xF4];
        byte[] init = [1, 2, 3, 4];
        ulong entry = text + ElfExecutableWriter.CodeOffset + 1;
        var elf = new ElfReader(ElfExecutableWriter.Write(bits, text, code, entry, data, init, 0x2000));

        Assert.Equal(cls, elf.Class);
        Assert.Equal(machine, elf.Machine);
        Assert.Equal(ElfType.ET_EXEC, elf.Type);
        Assert.Equal(entry, elf.Entry);
        Assert.Equal(2, elf.LoadSegments.Count);
        var t = elf.LoadSegments[0];
        Assert.Equal(text, t.VirtualAddress);
        Assert.Equal(0UL, t.Offset);                                   // the headers are mapped with the text, as ld does
        Assert.Equal(ElfSegmentFlags.PF_R | ElfSegmentFlags.PF_X, t.Flags);
        Assert.Equal(code, t.Bytes.Span[ElfExecutableWriter.CodeOffset..].ToArray());
        var d = elf.LoadSegments[1];
        Assert.Equal(data, d.VirtualAddress);
        Assert.Equal(ElfSegmentFlags.PF_R | ElfSegmentFlags.PF_W, d.Flags);
        Assert.Equal(0UL, d.Offset % 0x1000);                          // p_offset ≡ p_vaddr (mod p_align)
        Assert.Equal(init, d.Bytes.ToArray());
        Assert.Equal(0x2000UL, d.MemorySize);                          // the rest is bss
        Assert.Empty(elf.Sections.Skip(1));
    }

    [Fact]
    public void Refuses_an_entry_outside_the_code() =>
        Assert.Throws<ArgumentException>(() => ElfExecutableWriter.Write(64, 0x40_0000, [0x90], 0x40_0000, 0x60_0000, [], 0x1000));

    [Fact]
    public void Refuses_unaligned_segments() =>
        Assert.Throws<ArgumentException>(() => ElfExecutableWriter.Write(32, 0x0804_8010, [0x90], 0x0804_8110, 0x0806_0000, [], 0x1000));

    [Fact]
    public void Refuses_overlapping_segments() =>
        Assert.Throws<ArgumentException>(() => ElfExecutableWriter.Write(32, 0x0804_8000, [0x90], 0x0804_8100, 0x0804_8000, [], 0x1000));
}
