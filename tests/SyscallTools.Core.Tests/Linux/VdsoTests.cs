using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>The 32-bit vDSO: an ELF image whose __kernel_vsyscall is patched by alternatives as the kernel patches it.</summary>
public class VdsoTests
{
    private static byte[] Bytes(LinuxMachine m, int count) => m.Memory.ReadBytes(m.KernelVsyscall, count);

    [Fact]
    public void AmdImageMatchesTheBytesOfARealLinux618OnEpyc()
    {
        // kernel-semantics.md: an AMD EPYC machine running Linux 6.18 shows these __kernel_vsyscall bytes.
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        Assert.Equal(TestHex("51 52 55 89 cd 0f 05 cd 80 5d 5a 59 c3"), Bytes(m, 13));
        Assert.Equal("syscall", m.Vdso!.EntryVariant);
    }

    [Fact]
    public void IntelImageUsesSysenterAndThirtyTwoBitKernelsUseSepToo()
    {
        var intel = new LinuxMachine(new Linux618(), CpuProfile.IntelSkylake);
        Assert.Equal(TestHex("51 52 55 89 e5 0f 34 cd 80 5d 5a 59 c3"), Bytes(intel, 13));
        var amd32 = new LinuxMachine(new Linux44(), CpuProfile.AmdZen3, kernelBits: 32);
        Assert.Equal("sysenter", amd32.Vdso!.EntryVariant);
    }

    [Theory]
    [InlineData("intel", 64, "sysenter")]
    [InlineData("amd", 64, "syscall")]
    [InlineData("amd", 32, "sysenter")]
    public void PreRewriteKernelsPickOneOfThreeImages(string vendor, int kbits, string flavor)
    {
        var m = new LinuxMachine(new Linux42(), vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, kbits);
        Assert.Equal(flavor, m.Vdso!.Flavor);
        Assert.Null(m.Vdso.LandingPad);
    }

    [Fact]
    public void ImageIsAnElfSharedObjectWithTheKernelsSymbols()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        var elf = new ElfReader(m.Memory.ReadBytes(m.Task.VdsoBase, 0x2000));
        Assert.Equal(ElfType.ET_DYN, elf.Type);
        Assert.Equal(ElfMachine.EM_386, elf.Machine);
        Assert.NotNull(elf.LookupDynamicSymbol("__kernel_vsyscall"));
        Assert.NotNull(elf.LookupDynamicSymbol("__kernel_sigreturn"));
        Assert.NotNull(elf.LookupDynamicSymbol("__kernel_rt_sigreturn"));
        // The landing pad comes from the image's symbol table (vdso_image_32.sym_int80_landing_pad): 9 bytes in.
        var pad = elf.FindSymbol("int80_landing_pad")!;
        Assert.Equal(elf.FindSymbol("__kernel_vsyscall")!.Value + 9, pad.Value);
        Assert.Equal(m.Task.VdsoBase + pad.Value, m.LandingPad);
    }

    [Fact]
    public void SigreturnTrampolinesMakeTheRightCalls()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        var sig = m.Memory.ReadBytes(m.Task.VdsoBase + (ulong)m.Vdso!.Symbols["__kernel_sigreturn"], 8);
        Assert.Equal(TestHex("58 b8 77 00 00 00 cd 80"), sig);           // popl %eax; movl $119, %eax; int $0x80
        var rt = m.Memory.ReadBytes(m.Task.VdsoBase + (ulong)m.Vdso.Symbols["__kernel_rt_sigreturn"], 7);
        Assert.Equal(TestHex("b8 ad 00 00 00 cd 80"), rt);               // movl $173, %eax; int $0x80
    }

    private static byte[] TestHex(string s) => Convert.FromHexString(s.Replace(" ", ""));
}
