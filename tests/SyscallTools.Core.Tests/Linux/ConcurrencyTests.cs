using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>Machines are independent: many run on many threads at once with the same results as one at a time; a run can be cancelled.</summary>
public class ConcurrencyTests
{
    private static string Fingerprint(KernelModel model, CpuProfile profile, EntryMethod via)
    {
        var m = new LinuxMachine(model, profile);
        var r = m.InvokeSyscall(20, via: via, trace: true);
        return string.Join('\n', r.Trace!.Select(e => e.ToString())) + $"\n{r.After}";
    }

    [Fact]
    public void ParallelMachinesGiveTheSameTracesAsSequentialOnes()
    {
        var cases = (from model in KernelModel.All
                     from profile in CpuProfile.All
                     from via in new[] { EntryMethod.Vdso, EntryMethod.Int80 }
                     select (model, profile, via)).ToArray();
        var sequential = cases.Select(c => Fingerprint(c.model, c.profile, c.via)).ToArray();
        var parallel = new string[cases.Length];
        Parallel.For(0, cases.Length * 3, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var c = cases[i % cases.Length];
            var f = Fingerprint(c.model, c.profile, c.via);
            if (i < cases.Length) parallel[i] = f;
            else Assert.Equal(sequential[i % cases.Length], f);
        });
        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void CancellationStopsAnEndlessUserLoop()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var r = m.RunUserCode([0xEB, 0xFE], budget: long.MaxValue, cancel: cts.Token); // jmp $
        Assert.Contains("Cancelled", r.Outcome);
    }
}
