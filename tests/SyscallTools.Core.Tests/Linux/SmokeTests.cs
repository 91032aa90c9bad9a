using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;
using Xunit.Abstractions;

namespace SyscallTools.Core.Tests.LinuxTests;

public class SmokeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("linux-6.18", "amd", 64, 32, EntryMethod.Vdso)]
    [InlineData("linux-6.18", "intel", 64, 32, EntryMethod.Vdso)]
    [InlineData("linux-6.18", "amd", 64, 64, EntryMethod.Syscall)]
    [InlineData("linux-6.18", "amd", 64, 32, EntryMethod.Int80)]
    [InlineData("linux-4.4", "amd", 64, 32, EntryMethod.Vdso)]
    [InlineData("linux-4.4", "intel", 64, 64, EntryMethod.Syscall)]
    [InlineData("linux-4.2", "intel", 64, 32, EntryMethod.Vdso)]
    [InlineData("linux-4.2", "amd", 64, 32, EntryMethod.Vdso)]
    [InlineData("linux-6.18", "intel", 32, 32, EntryMethod.Vdso)]
    [InlineData("linux-4.4", "intel", 32, 32, EntryMethod.Vdso)]
    [InlineData("linux-4.2", "intel", 32, 32, EntryMethod.Vdso)]
    [InlineData("linux-6.18", "amd", 32, 32, EntryMethod.Int80)]
    public void Getpid(string model, string vendor, int kbits, int tbits, EntryMethod via)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, kbits, tbits);
        long nr = tbits == 32 ? 20 : 39;
        var r = m.InvokeSyscall(nr, via: via, trace: true);
        foreach (var e in r.Trace!) output.WriteLine(e.ToString());
        output.WriteLine($"{r.Outcome} ret={r.Return} entry={r.EntryInstruction} exit={r.ExitInstruction} {r.ExitPath?.Reason}");
        Assert.True(r.Completed, r.Outcome);
        Assert.Equal(m.Task.Pid, r.Return);
    }
}
