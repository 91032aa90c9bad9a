using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// The machine re-uses its exit ladder and hands back the previous decision when the checks come out the same
/// (a loop of system calls allocates nothing). These tests make sure that re-use never answers a changed question with
/// a stale decision: every call in a sequence gets the decision its own pt_regs call for.
/// </summary>
public class ExitDecisionReuseTests
{
    [Theory]
    [InlineData("linux-6.18", "amd", 64, "SYSRETL")]
    [InlineData("linux-6.18", "intel", 64, "SYSRETL")]
    [InlineData("linux-4.4", "intel", 32, "SYSEXIT")]
    [InlineData("linux-6.18", "intel", 32, "SYSEXIT")]
    public void AnEditInTheMiddleOfASequenceChangesOnlyThatCallsDecision(string model, string vendor, int kbits, string fast)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, kbits);
        // Five getpid calls through __kernel_vsyscall; the third gets RF set in its saved flags by entry work, which
        // no fast exit can restore (kernel-semantics §4f), so that call alone must leave by IRET.
        var code = Asm.Build(32, m.UserCodeAddress, a =>
        {
            for (int i = 0; i < 5; i++) { a.mov(eax, 20); a.call((uint)m.KernelVsyscall); }
        });
        int entry = 0;
        m.Task.Flags |= ThreadFlags.SyscallAudit;          // entry work without a tracer: the hook below runs in it
        m.EntryWork = (_, regs) => { if (++entry == 3) regs.Flags |= RFlags.RF; };
        var r = m.RunUserCode(code, trace: true);
        Assert.True(r.Outcome == "ran to the end of the code", $"{r.Outcome} signal={r.Signal} fault={r.Fault} oops={r.Oops}");
        var exits = r.KernelEntries.Where(e => e.Exit is not null).Select(e => e.Exit!).ToArray();
        Assert.Equal(5, exits.Length);
        Assert.Equal([fast, fast, "IRET", fast, fast], exits.Select(d => d.Instruction));
        var rf = exits[2].Checks.First(c => !c.Passed);
        Assert.Contains("RF", rf.Name, StringComparison.Ordinal);
        Assert.Contains("RF", rf.Actual, StringComparison.Ordinal);
        Assert.StartsWith(rf.Name + " failed", exits[2].Reason, StringComparison.Ordinal);
        // The calls around it saw their own flags: RF is not in any of their checks.
        foreach (var d in exits.Where(d => d.Fast)) Assert.All(d.Checks, c => Assert.True(c.Passed, c.ToString()));
        // Identical questions get the identical (immutable) answer back.
        Assert.Same(exits[0], exits[1]);
        Assert.Same(exits[3], exits[4]);
    }

    [Fact]
    public void ALadderRebuildsItsDecisionWhenAnyCheckDiffers()
    {
        var ladder = new ExitLadder("m", "SYSRETQ");
        var a = ladder.Check("x", 1, 1, "why").Decide();
        var again = ladder.Begin("m", "SYSRETQ").Check("x", 1, 1, "why").Decide();
        Assert.Same(a, again);
        var b = ladder.Begin("m", "SYSRETQ").Check("x", 1, 2, "why").Decide();
        Assert.Equal("IRET", b.Instruction);
        Assert.Equal("0x1", b.Checks[0].Actual);
        Assert.Equal("0x2", b.Checks[0].Expected);
        var c = ladder.Begin("m", "SYSRETQ").Check("x", 2, 2, "why").Decide();
        Assert.Equal("SYSRETQ", c.Instruction);
        Assert.Equal("0x2", c.Checks[0].Actual);
        var d = ladder.Begin("other", "SYSRETQ").Check("x", 2, 2, "why").Decide();
        Assert.Equal("other", d.Model);
        var e = ladder.Begin("other", "SYSRETL").Check("x", 2, 2, "why").Decide();
        Assert.Equal("SYSRETL", e.Instruction);
        var f = ladder.Begin("other", "SYSRETL").Check("x", 2, 2, "why").Check("y", "a", "a", true, "w").Decide();
        Assert.Equal(2, f.Checks.Count);
        Assert.Equal("x", a.Checks[0].Name);
        Assert.Single(a.Checks); // an earlier decision is never changed by later use of the ladder
    }
}
