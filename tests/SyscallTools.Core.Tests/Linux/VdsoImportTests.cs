using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Vdso;
using SyscallTools.Core.Tests.ElfTests;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>A real 32-bit vDSO (this machine's, Elf/Images/host-vdso32.so) mapped in place of the built one and run.</summary>
public class VdsoImportTests
{
    private static byte[] Host => TestImages.Load(CfiTests.HostVdso);

    [Fact]
    public void HostImageIsFoundByItsSymbolsAndTheLandingPadByItsBytes()
    {
        var image = VdsoImport.Load(Host, 64, "host-vdso32.so");
        Assert.Equal(0x5e0, image.KernelVsyscall);
        Assert.Equal(0x600, image.Symbols["__kernel_sigreturn"]);
        Assert.Equal(0x610, image.Symbols["__kernel_rt_sigreturn"]);
        Assert.Equal(0x5e9, image.LandingPad);                     // not exported: cd 80 | 5d 5a 59
        Assert.Contains(image.Notes, n => n.Contains("found by its bytes"));
        Assert.Equal(0x2000, image.MappedSize);
    }

    [Theory]
    [InlineData("linux-6.18", "intel", 64, "sysenter")]
    [InlineData("linux-6.18", "amd", 64, "syscall")]
    [InlineData("linux-4.4", "intel", 32, "sysenter")]
    [InlineData("linux-6.18-unsafe-sysret", "amd", 32, "sysenter")]
    public void TheHostVdsoRunsAndUnwindsAtEveryStep(string model, string vendor, int bits, string variant)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, bits, 32);
        m.ReplaceVdso(VdsoImport.Load(Host, bits, "host-vdso32.so"));
        Assert.Equal(variant, m.Vdso!.EntryVariant);
        Assert.Equal(m.Task.VdsoBase + 0x5e9, m.LandingPad);
        var r = m.CheckVdsoUnwind(20, [1, 2, 3, 4, 5, 6]);
        Assert.True(r.Completed, r.Outcome);
        Assert.True(r.Passed, r.FirstFailure?.Mismatch);
        Assert.Equal(9, r.Steps.Count);                            // 3 pushes, mov, SYSENTER/SYSCALL, 3 pops, ret
        var call = m.InvokeSyscall(20);
        Assert.True(call.Completed, call.Outcome);
        Assert.Equal("[vdso] int80_landing_pad", call.ExitSymbol);
    }

    [Fact]
    public void BadFilesAreClearErrors()
    {
        var host = Host;
        Assert.Contains("ELF", Assert.Throws<InvalidVdsoImageException>(() => VdsoImport.Load("not an elf file"u8.ToArray(), 64)).Message);
        Assert.Contains("outside the file", Assert.Throws<InvalidVdsoImageException>(() => VdsoImport.Load(host[..0x300], 64)).Message);
        Assert.Contains("ELFCLASS64", Assert.Throws<InvalidVdsoImageException>(() => VdsoImport.Load(TestImages.Load(TestImages.Tiny64), 64)).Message);
        Assert.Contains("ET_EXEC", Assert.Throws<InvalidVdsoImageException>(() => VdsoImport.Load(TestImages.Load(TestImages.Static32), 64)).Message);
        // The int $0x80 before the pops overwritten: no landing pad to be found.
        var noPad = (byte[])host.Clone();
        noPad[0x5e7] = 0x90; noPad[0x5e8] = 0x90;
        Assert.Contains("no landing pad", Assert.Throws<InvalidVdsoImageException>(() => VdsoImport.Load(noPad, 64)).Message);
        // Every truncation is either loadable or an InvalidVdsoImageException, never anything else.
        for (int n = 0; n < host.Length; n += 97)
        {
            try { VdsoImport.Load(host[..n], 64); }
            catch (InvalidVdsoImageException) { }
        }
    }

    [Fact]
    public void CorruptedHeadersAreInvalidImagesOrLoad()
    {
        // Every byte of the ELF header, program headers and dynamic section set to hostile values: Load either
        // succeeds or throws InvalidVdsoImageException, nothing else.
        var host = Host;
        for (int i = 0; i < 0x42c; i++)
            foreach (byte v in new byte[] { 0x00, 0x7f, 0xff })
            {
                var bad = (byte[])host.Clone();
                bad[i] = v;
                try { VdsoImport.Load(bad, 64); }
                catch (InvalidVdsoImageException) { }
            }
    }

    [Fact]
    public void ACorruptedEhFrameIsAFormatErrorWhenUnwinding()
    {
        var bytes = (byte[])Host.Clone();
        bytes[0x4cc + 0x18 + 4] ^= 0x55;                           // the first FDE's CIE pointer
        var m = new LinuxMachine(new Linux618(), CpuProfile.IntelSkylake);
        m.ReplaceVdso(VdsoImport.Load(bytes, 64));
        Assert.Throws<Elf.ElfFormatException>(() => m.CheckVdsoUnwind());
    }

    [Fact]
    public void PreRewriteKernelsRefuseAnImportedImage()
    {
        var m = new LinuxMachine(new Linux42(), CpuProfile.IntelSkylake);
        Assert.Throws<InvalidOperationException>(() => m.ReplaceVdso(VdsoImport.Load(Host, 64, "host-vdso32.so")));
    }
}
