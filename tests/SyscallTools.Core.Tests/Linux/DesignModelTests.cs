using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Ptrace;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// The 2015 thread's proposals as models on top of linux-4.4 (reference/lkml-2015-09-rewrite-syscall-entries.txt).
/// Each is an optimisation and claims to change nothing a task can observe; the yardstick is therefore linux-4.4
/// itself, whose fast-exit checks exist for reasons the kernel states: SYSRET "can restore TF, but unlike IRET, restoring
/// TF results in a trap from userspace immediately after SYSRET" (entry_64.S), and signals are delivered on the way out
/// (prepare_exit_to_usermode's work loop). Where a proposal skips one of those, the scenario pins down what the task sees.
/// </summary>
public class DesignModelTests
{
    private const string Flag = "linux-4.4+fastsyscall-flag", Bypass = "linux-4.4+exit-work-bypass", Accessors = "linux-4.4+ptregs-accessors";

    private static LinuxMachine Machine(string model, string vendor = "amd", int kbits = 64) =>
        new(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, kbits);

    [Fact]
    public void TheDesignModelsAreListedWithTheProposalTheyFollow()
    {
        foreach (var name in new[] { Flag, Bypass, Accessors })
        {
            var m = KernelModel.Find(name);
            Assert.NotNull(m);
            Assert.Equal(EntryGeneration.Rewrite, m!.Generation);
            Assert.Contains("LKML", m.Follows, StringComparison.Ordinal);
            Assert.StartsWith("Design model", m.Description, StringComparison.Ordinal);
        }
    }

    /// <summary>Without any reason for IRET, every proposal returns as fast as v4.4 does.</summary>
    [Theory]
    [InlineData(Flag, "amd", 64, "SYSRETL")]
    [InlineData(Bypass, "amd", 64, "SYSRETL")]
    [InlineData(Accessors, "amd", 64, "SYSRETL")]
    [InlineData(Flag, "intel", 64, "SYSRETL")]
    [InlineData(Bypass, "intel", 32, "SYSEXIT")]
    [InlineData(Accessors, "intel", 32, "SYSEXIT")]
    [InlineData(Flag, "amd", 32, "SYSEXIT")]
    public void APlainFastSyscallLeavesByTheFastInstruction(string model, string vendor, int kbits, string exit)
    {
        var r = Machine(model, vendor, kbits).InvokeSyscall(20, via: EntryMethod.Vdso);
        Assert.Equal(4242, r.Return);
        Assert.Equal(exit, r.ExitInstruction);
        Assert.Equal(model, r.ExitPath!.Model);
    }

    /// <summary>
    /// The user's own TF over a 32-bit SYSCALL (AMD, 64-bit kernel): SYSCALL masks TF, so nothing traps in the kernel
    /// and nothing rewrites pt_regs — only v4.4's flags check sees it and sends the exit through IRET, after which the
    /// first instruction at the landing pad runs and then traps. The three proposals skip that check and leave by
    /// SYSRETL, which restores TF with a trap at once: SIGTRAP at the landing pad, before any instruction there ran.
    /// </summary>
    [Theory]
    [InlineData("linux-4.4", "IRET", 1)]
    [InlineData(Flag, "SYSRETL", 0)]
    [InlineData(Bypass, "SYSRETL", 0)]
    [InlineData(Accessors, "SYSRETL", 0)]
    public void TheUsersTfOverAFastSyscall(string model, string exit, int instructionsBeforeTheTrap)
    {
        var m = Machine(model);
        // The vDSO's frame by hand (return address, ecx, edx, ebp), then TF and a raw SYSCALL: it returns to the landing
        // pad, whose pops and ret come back to `after`.
        byte[] Build(uint after) => Asm.Build(32, m.UserCodeAddress, a =>
        {
            a.push(after); a.push(ecx); a.push(edx); a.push(ebp);
            a.mov(eax, 20);
            a.pushfd(); a.or(__dword_ptr[esp], (int)RFlags.TF); a.popfd();
            a.syscall();
        });
        int length = Build(0x7FFF_FFFF).Length;          // a placeholder with the same imm32 encoding
        var code = Build((uint)(m.UserCodeAddress + (ulong)length)).Concat(new byte[] { 0x90, 0x90 }).ToArray();
        var r = m.RunUserCode(code, trace: true);
        Assert.Equal("SIGTRAP", r.Signal);                      // no handler: the trap kills the task
        var call = r.KernelEntries.First(e => e.Exit is not null);
        Assert.Equal(exit, call.Exit!.Instruction);
        Assert.Equal(m.LandingPad + (ulong)instructionsBeforeTheTrap, r.After.Ip);   // pop ebp is one byte
    }

    /// <summary>
    /// kill(getpid(), SIGTERM) through the vDSO: v4.4 delivers the signal on the way out of this very call, so the task
    /// dies there. The literal exit-work bypass skips the whole slow exit when no syscall-exit work is set — SIGPENDING is
    /// not exit work — so the task returns and runs on (every later fast call skips it too) until a slow exit, here an
    /// int $0x80, delivers it; the other two proposals keep the slow exit and agree with v4.4.
    /// </summary>
    [Theory]
    [InlineData("linux-4.4", "amd", 64, true)]
    [InlineData(Flag, "amd", 64, true)]
    [InlineData(Accessors, "amd", 64, true)]
    [InlineData(Bypass, "amd", 64, false)]
    [InlineData("linux-4.4", "intel", 32, true)]
    [InlineData(Flag, "intel", 32, true)]
    [InlineData(Accessors, "intel", 32, true)]
    [InlineData(Bypass, "intel", 32, false)]
    [InlineData(Bypass, "intel", 64, false)]
    public void ASignalRaisedByTheCallIsDeliveredOnItsWayOut(string model, string vendor, int kbits, bool diesAtThisReturn)
    {
        var m = Machine(model, vendor, kbits);
        var code = Asm.Build(32, m.UserCodeAddress, a =>
        {
            a.mov(eax, 37); a.mov(ebx, 4242); a.mov(ecx, Signal.SIGTERM);
            a.call((uint)m.KernelVsyscall);
            a.mov(esi, 0x1234);                                 // runs only if the signal was not delivered
            a.mov(eax, 20); a.@int(0x80);                       // int $0x80 always takes the slow exit
        });
        var r = m.RunUserCode(code);
        Assert.Equal("SIGTERM", r.Signal);
        Assert.True(r.TaskExited);
        Assert.Equal(diesAtThisReturn ? 0UL : 0x1234UL, r.After.Si & 0xFFFF);
    }

    /// <summary>
    /// The ptrace_syscall selftest's kill(getpid(), SIGUSR1) with a handler: setting up the frame rewrites ip and sp,
    /// which is what force_iret() (the flag proposal) and the write accessor (the accessors proposal) are for, so both
    /// return by IRET into the handler as v4.4 does. The bypass does not run the handler on this return at all.
    /// </summary>
    [Theory]
    [InlineData("linux-4.4", "amd", 64, 1u)]
    [InlineData(Flag, "amd", 64, 1u)]
    [InlineData(Accessors, "amd", 64, 1u)]
    [InlineData(Bypass, "amd", 64, 0u)]
    [InlineData(Flag, "intel", 32, 1u)]
    [InlineData(Accessors, "intel", 32, 1u)]
    [InlineData(Bypass, "intel", 32, 0u)]
    public void AHandlerFrameForcesIretWhereTheProposalSaysSo(string model, string vendor, int kbits, uint handlerRuns)
    {
        var m = Machine(model, vendor, kbits);
        ulong handler = m.UserText + 0x100, counter = m.UserDataArea + 0x200;
        m.Memory.WriteBytes(handler, Asm.Build(32, handler, a => { a.inc(__dword_ptr[(uint)counter]); a.ret(); }));
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler, 0, 0, 0);
        var code = Asm.Build(32, m.UserCodeAddress, a =>
        {
            a.mov(eax, 37); a.mov(ebx, 4242); a.mov(ecx, Signal.SIGUSR1);
            a.call((uint)m.KernelVsyscall);
        });
        var r = m.RunUserCode(code, trace: true);
        Assert.Equal("ran to the end of the code", r.Outcome);
        Assert.Equal(0UL, r.After.Ax & 0xFFFF_FFFF);
        Assert.Equal(handlerRuns, m.Memory.ReadUInt32(counter));
        // The kill's own exit: into the handler by IRET, and which test said so; the bypass returns by SYSRETL/SYSEXIT.
        var kill = r.KernelEntries.First(e => e.Number == 37 && e.Exit is not null).Exit!;
        Assert.Equal(handlerRuns == 1 ? "IRET" : (kbits == 64 ? "SYSRETL" : "SYSEXIT"), kill.Instruction);
        string? decidedBy = kill.Checks.FirstOrDefault(c => !c.Passed)?.Name;
        Assert.Equal(model switch { Flag => "ti->status & TS_FASTSYSCALL", Bypass => null, _ => "regs->ip == landing pad" }, decidedBy);
    }

    /// <summary>A tracer's write at the exit stop: every proposal keeps IRET here (tracing is exit work; the write clears the flag or sets the accessor's).</summary>
    [Theory]
    [InlineData("linux-4.4")]
    [InlineData(Flag)]
    [InlineData(Bypass)]
    [InlineData(Accessors)]
    public void ATracersEditAtTheExitStopForcesIret(string model)
    {
        var m = Machine(model);
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallExit) s.Poke("ip", s.Peek("ip") + 1); };
        var r = m.InvokeSyscall(20, via: EntryMethod.Vdso);
        Assert.Equal("IRET", r.ExitInstruction);
        // Which test sent it to IRET, per proposal: the flag (force_iret cleared it), otherwise v4.4's landing-pad test
        // (tracing is exit work, so the bypass keeps the checks; the accessors flag the write and run them).
        Assert.Equal(model == Flag ? "ti->status & TS_FASTSYSCALL" : "regs->ip == landing pad", r.ExitPath!.Checks.First(c => !c.Passed).Name);
    }

    [Fact]
    public void TheFlagModelSaysWhichTestDecided()
    {
        var m = Machine(Flag);
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallExit) s.Poke("bx", 7); };   // harmless, but a write
        var r = m.InvokeSyscall(20, via: EntryMethod.Vdso);
        Assert.Equal("IRET", r.ExitInstruction);                 // v4.4 would have used SYSRETL: the flag is coarser
        Assert.Equal("ti->status & TS_FASTSYSCALL", r.ExitPath!.Checks.First(c => !c.Passed).Name);
        Assert.Equal("SYSRETL", Machine("linux-4.4").InvokeSyscall(20, via: EntryMethod.Vdso).ExitInstruction);
    }
}
