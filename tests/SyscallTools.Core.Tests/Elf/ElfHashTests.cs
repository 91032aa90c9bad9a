using SyscallTools.Core.Elf;
using Xunit;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// The SysV ELF hash. Agreement with the tables ld writes is checked in
/// <see cref="ElfReaderToolchainImageTests.OurHashFunctionFindsEverySymbolThroughLdsHashTable"/>; these pin values.
/// </summary>
public class ElfHashTests
{
    [Theory]
    [InlineData("", 0x0u)]                            // nothing shifted in
    [InlineData("a", 0x61u)]                          // one byte is its own hash
    [InlineData("printf", 0x077905a6u)]               // the value usually quoted for the gABI function
    [InlineData("exit", 0x0006cf04u)]                 // four bytes: still below the top nibble, no folding
    [InlineData("__kernel_vsyscall", 0x0426113cu)]    // long enough that the top nibble is folded many times
    [InlineData("__kernel_rt_sigreturn", 0x09ddfafeu)]
    [InlineData("LINUX_2.5", 0x03ae75f5u)]
    public void KnownNames(string name, uint hash) => Assert.Equal(hash, ElfHash.Compute(name));

    [Fact]
    public void ResultAlwaysFitsIn28Bits()
    {
        // Whatever reaches bits 28-31 is folded back and cleared, so the top nibble is always zero.
        var rng = new Random(20240601);
        for (int i = 0; i < 1000; i++)
        {
            var name = new byte[rng.Next(1, 64)];
            rng.NextBytes(name);
            Assert.Equal(0u, ElfHash.Compute(name) & 0xf000_0000);
        }
    }

    [Fact]
    public void StringAndUtf8BytesHashAlike() =>
        Assert.Equal(ElfHash.Compute("__vdso_time"u8), ElfHash.Compute("__vdso_time"));
}
