using SyscallTools.Core.Linux.Exec;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests.Exec;

/// <summary>
/// The initial stack against fs/exec.c and create_elf_tables, worked out by hand for one small case: strings from the
/// top down (a kernel-pointer-sized gap, the file name, envp strings, argv strings), 16-byte alignment, the platform
/// string, 16 random bytes, then argc/argv/envp/auxv rounded down to 16 bytes (STACK_ROUND).
/// </summary>
public class InitialStackTests
{
    private static readonly byte[] Random16 = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();

    private static InitialStack Build(int word, int kernelPointer) => InitialStack.Build(0x10000, word, kernelPointer,
        ["a", "bc"], ["X=1"], "/p", "i686", Random16, [(AuxVector.AT_PAGESZ, 4096), (AuxVector.AT_RANDOM, 0), (AuxVector.AT_EXECFN, 0),
            (AuxVector.AT_PLATFORM, 0), (AuxVector.AT_NULL, 0)]);

    private static ulong Word(InitialStack s, ulong at, int word) =>
        word == 4 ? BitConverter.ToUInt32(s.Bytes, (int)(at - s.Base)) : BitConverter.ToUInt64(s.Bytes, (int)(at - s.Base));

    private static string Str(InitialStack s, ulong at)
    {
        int i = (int)(at - s.Base), end = Array.IndexOf(s.Bytes, (byte)0, i);
        return System.Text.Encoding.ASCII.GetString(s.Bytes, i, end - i);
    }

    [Fact]
    public void A_32_bit_task_on_a_64_bit_kernel()
    {
        var s = Build(4, 8);
        // 0x10000 - 8 (sizeof(void *) of the kernel) - "/p\0" = 0xfff5; "X=1\0" 0xfff1; "bc\0" 0xffee; "a\0" 0xffec.
        Assert.Equal(0xFFF5UL, s.ExecFn);
        // arch_align_stack: 0xffec & ~0xf = 0xffe0; "i686\0" at 0xffdb; random bytes at 0xffcb.
        Assert.Equal(0xFFDBUL, s.Platform);
        Assert.Equal(0xFFCBUL, s.Random);
        // auxv: 5 pairs = 40 bytes below 0xffcb -> 0xffa3; items = 3 + 2 + 1 = 6 words -> 0xff8b; & ~15 -> 0xff80.
        Assert.Equal(0xFF80UL, s.Sp);
        Assert.Equal(2UL, Word(s, s.Sp, 4));                           // argc
        Assert.Equal("a", Str(s, Word(s, s.Sp + 4, 4)));
        Assert.Equal("bc", Str(s, Word(s, s.Sp + 8, 4)));
        Assert.Equal(0UL, Word(s, s.Sp + 12, 4));
        Assert.Equal("X=1", Str(s, Word(s, s.Sp + 16, 4)));
        Assert.Equal(0UL, Word(s, s.Sp + 20, 4));
        ulong aux = s.Sp + 24;
        Assert.Equal(AuxVector.AT_PAGESZ, Word(s, aux, 4));
        Assert.Equal(4096UL, Word(s, aux + 4, 4));
        Assert.Equal(0xFFCBUL, Word(s, aux + 12, 4));                 // AT_RANDOM points at the bytes
        Assert.Equal(0xFFF5UL, Word(s, aux + 20, 4));                 // AT_EXECFN at the file name
        Assert.Equal(0xFFDBUL, Word(s, aux + 28, 4));                 // AT_PLATFORM at "i686"
        Assert.Equal(AuxVector.AT_NULL, Word(s, aux + 32, 4));
        Assert.Equal(Random16, s.Bytes.AsSpan((int)(s.Random - s.Base), 16).ToArray());
        Assert.Equal("/p", Str(s, s.ExecFn));
        Assert.Equal(0, s.Bytes[^1]);                                   // the top slot stays empty
    }

    [Fact]
    public void A_64_bit_task_uses_eight_byte_words()
    {
        var s = Build(8, 8);
        Assert.Equal(0xFFCBUL, s.Random);
        // auxv: 5 pairs × 16 = 80 below 0xffcb -> 0xff7b; 6 words × 8 = 48 -> 0xff4b; & ~15 -> 0xff40.
        Assert.Equal(0xFF40UL, s.Sp);
        Assert.Equal(2UL, Word(s, s.Sp, 8));
        Assert.Equal("bc", Str(s, Word(s, s.Sp + 16, 8)));
        Assert.Equal(0xFFCBUL, Word(s, s.Sp + 48 + 24, 8));            // the AT_RANDOM pair's value
    }

    [Fact]
    public void A_32_bit_kernel_leaves_a_four_byte_gap_at_the_top()
    {
        var s = Build(4, 4);
        Assert.Equal(0xFFF9UL, s.ExecFn);                              // 0x10000 - 4 - 3
        Assert.Equal(0UL, s.Sp % 16);
    }
}
