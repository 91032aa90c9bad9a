using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf.Cfi;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Vdso;
using Xunit;
using Xunit.Abstractions;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// The vDSO's .eh_frame is right at every instruction of a system call through __kernel_vsyscall, for every model,
/// vendor and kernel bitness (selftest unwind_vdso), and a deliberately broken annotation fails exactly where it is wrong.
/// </summary>
public class VdsoUnwindTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, int> Machines()
    {
        var d = new TheoryData<string, string, int>();
        foreach (var m in KernelModel.All)
            foreach (var v in new[] { "intel", "amd" })
                foreach (var bits in new[] { 64, 32 })
                    d.Add(m.Name, v, bits);
        return d;
    }

    private static LinuxMachine Make(string model, string vendor, int bits) =>
        new(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, bits, 32);

    private void Dump(VdsoUnwindReport r)
    {
        output.WriteLine($"{r.Outcome}, eax=0x{r.ReturnValue:x}");
        foreach (var s in r.Steps)
            output.WriteLine($"{s.Step,2} {s.Address:x} {s.Symbol,-32} {s.Disassembly,-24} {s.CfiRow} {(s.Passed ? "ok" : "FAIL " + s.Mismatch)}");
    }

    [Theory]
    [MemberData(nameof(Machines))]
    public void EveryStepOfASixArgumentCallUnwinds(string model, string vendor, int bits)
    {
        var m = Make(model, vendor, bits);
        var r = m.CheckVdsoUnwind(20, [1, 2, 3, 4, 5, 6]);
        Dump(r);
        Assert.True(r.Completed, r.Outcome);
        Assert.True(r.Passed, r.FirstFailure?.Mismatch);
        Assert.Equal((uint)m.Task.Pid, r.ReturnValue);
        // Every instruction of __kernel_vsyscall up to the entry, and the ret, were unwound at.
        Assert.Equal(m.KernelVsyscall, r.Steps[0].Address);
        Assert.StartsWith("ret", r.Steps[^1].Disassembly);
        Assert.All(r.Steps, s => Assert.NotNull(s.CfiRow));
    }

    [Theory]
    [InlineData("linux-6.18", "intel", 64, 1)]
    [InlineData("linux-6.18", "amd", 64, 2)]
    [InlineData("linux-4.4", "amd", 32, 4)]
    [InlineData("linux-4.2", "intel", 64, 0)]
    [InlineData("linux-4.2", "amd", 64, 1)]
    public void ABrokenDefCfaOffsetFailsAtExactlyTheStepsItCovers(string model, string vendor, int bits, int breakAt)
    {
        var m = Make(model, vendor, bits);
        var good = m.Vdso!.ReadEhFrame(m.Task.VdsoBase);
        m.ReplaceVdso(VdsoBuilder.Build(m.Model, m.KernelBits, m.Features, breakCfiAt: breakAt));
        var bad = m.Vdso!.ReadEhFrame(m.Task.VdsoBase);
        var r = m.CheckVdsoUnwind(20, [1, 2, 3, 4, 5, 6]);
        Dump(r);
        Assert.True(r.Completed, r.Outcome);
        // The steps whose row differs from the correct image's, and only those, fail.
        var wrong = r.Steps.Where(s => good.RowAt(s.Address)!.Cfa != bad.RowAt(s.Address)!.Cfa).Select(s => s.Step).ToArray();
        Assert.NotEmpty(wrong);
        Assert.Equal(wrong, r.Steps.Where(s => !s.Passed).Select(s => s.Step).ToArray());
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void TheInt80ImageOfACpuWithoutFastEntriesUnwindsToo(int bits)
    {
        // No CPU profile here lacks SEP and SYSCALL32, so map the fallback image the pre-rewrite kernel would pick.
        var m = Make("linux-4.2", "intel", bits);
        m.ReplaceVdso(VdsoBuilder.Build(m.Model, bits, new HashSet<string>()));
        Assert.Equal("int80", m.Vdso!.Flavor);
        var r = m.CheckVdsoUnwind(20, [1, 2, 3, 4, 5, 6]);
        Dump(r);
        Assert.True(r.Completed, r.Outcome);
        Assert.True(r.Passed, r.FirstFailure?.Mismatch);
        Assert.Equal(["int 0x80", "ret"], r.Steps.Select(s => s.Disassembly).ToArray());
    }
}
