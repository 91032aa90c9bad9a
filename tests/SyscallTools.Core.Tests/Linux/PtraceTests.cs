using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Ptrace;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// Tracer stops and writes (kernel-semantics.md §6.1, §5 putreg; selftest ptrace_syscall): the entry stop comes after
/// pt_regs is built and before dispatch, orig_ax is re-read afterwards, and a write that breaks a fast-exit
/// condition makes the policy choose IRET.
/// </summary>
public class PtraceTests
{
    private static LinuxMachine Machine(string model = "linux-6.18", string vendor = "amd", int kbits = 64, int tbits = 32) =>
        new(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, kbits, tbits);

    [Theory]
    [InlineData("linux-6.18", "SYSRETL")]
    [InlineData("linux-4.4", "SYSRETL")]
    [InlineData("linux-4.2", "IRET")] // pre-rewrite: TIF_SYSCALL_TRACE is work, and work means IRET
    public void StopsAtEntryAndExit(string model, string exit)
    {
        var m = Machine(model);
        var kinds = new List<(PtraceStopKind, long, ulong)>();
        m.Tracer.OnStop = s => kinds.Add((s.Kind, s.SyscallNumber, s.Peek("ax")));
        var r = m.InvokeSyscall(20, via: EntryMethod.Vdso);
        Assert.Equal(4242, r.Return);
        Assert.Equal([(PtraceStopKind.SyscallEntry, 20L, unchecked((ulong)(uint)-Errno.ENOSYS)), (PtraceStopKind.SyscallExit, 20L, 4242UL)], kinds);
        Assert.Equal(exit, r.ExitInstruction);
    }

    [Fact]
    public void EditingOrigAxAtEntryChangesTheCall()
    {
        var m = Machine();
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallEntry) s.Poke("orig_ax", 64); }; // getppid
        Assert.Equal(1, m.InvokeSyscall(20).Return);
    }

    [Fact]
    public void OrigAxMinusOneSkipsTheCall()
    {
        var m = Machine(tbits: 64);
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallEntry) { s.Poke("orig_ax", unchecked((ulong)-1L)); s.Poke("ax", 77); } };
        var r = m.InvokeSyscall(39);
        Assert.Equal(77, r.Return);
        Assert.DoesNotContain(r.CFunctions, f => f.Contains("getpid", StringComparison.Ordinal));
    }

    [Fact]
    public void MovingIpAtExitForcesIretAndSaysWhy()
    {
        var m = Machine();
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallExit) s.Poke("ip", s.Peek("ip") + 1); };
        var r = m.InvokeSyscall(20, via: EntryMethod.Vdso);
        Assert.Equal("IRET", r.ExitInstruction);
        var failed = r.ExitPath!.Checks.First(c => !c.Passed);
        Assert.Equal("regs->ip == landing pad", failed.Name);
        Assert.Contains("landing pad", r.ExitPath.Reason);
    }

    [Fact]
    public void SettingTfAtExitForcesIret()
    {
        var m = Machine(tbits: 64);
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallExit) s.Poke("flags", s.Peek("flags") | RFlags.TF); };
        var r = m.InvokeSyscall(39, budget: 10_000);
        Assert.Equal("IRET", r.ExitInstruction);
        Assert.Contains(r.ExitPath!.Checks, c => c.Name.Contains("RF|TF", StringComparison.Ordinal) && !c.Passed);
    }

    [Theory]
    [InlineData("cs", 0x10UL)]   // RPL 0
    [InlineData("ss", 0x0UL)]    // null
    [InlineData("cs", 0x10023UL)] // wider than a selector
    public void PutregRefusesBadSelectors(string reg, ulong value)
    {
        var m = Machine();
        PtraceWriteException? error = null;
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallExit) error ??= Assert.Throws<PtraceWriteException>(() => s.Poke(reg, value)); };
        m.InvokeSyscall(20);
        Assert.NotNull(error);
        Assert.Contains("-EIO", error!.Message);
    }

    [Fact]
    public void PutregMasksFlagsAndSignExtendsA32BitOrigAx()
    {
        var m = Machine();
        ulong flagsAfter = 0, origAfter = 0;
        m.Tracer.OnStop = s =>
        {
            if (s.Kind != PtraceStopKind.SyscallExit) return;
            s.Poke("flags", 0xFFFF_FFFF);          // IF, IOPL, VM, ID… are not the tracer's to change
            flagsAfter = s.Regs.Flags;
            s.Poke("orig_ax", 0xFFFF_FFFF);        // -1 from a 32-bit tracer means "no restart"
            origAfter = s.Regs.OrigAx;
        };
        m.InvokeSyscall(20, via: EntryMethod.Int80);
        Assert.Equal(0x202UL | PutRegRules.FlagMask, flagsAfter);
        Assert.Equal(ulong.MaxValue, origAfter);
    }

    /// <summary>
    /// ptrace_syscall's "highly magical" case: under PTRACE_SYSEMU, ax = orig_ax and ip -= 2 at a stop after a fast
    /// entry must re-issue the identical call — ip - 2 is the vDSO's int $0x80.
    /// </summary>
    [Theory]
    [InlineData("amd")]
    [InlineData("intel")]
    public void SysemuRestartThroughIpMinusTwoReissuesTheSameCall(string vendor)
    {
        var m = Machine(vendor: vendor);
        var seen = new List<(long Nr, ulong[] Args, ulong Ip)>();
        m.Tracer.Sysemu = true;
        m.Tracer.OnStop = s =>
        {
            seen.Add((s.SyscallNumber, new[] { "bx", "cx", "dx", "si", "di", "bp" }.Select(s.Peek).ToArray(), s.Peek("ip")));
            if (seen.Count == 1)
            {
                s.Poke("ax", s.Peek("orig_ax"));
                s.Poke("ip", s.Peek("ip") - 2);
            }
            else
            {
                m.Tracer.Sysemu = false;
            }
        };
        var r = m.InvokeSyscall(224, [10, 11, 12, 13, 14, 15], EntryMethod.Vdso);
        Assert.True(r.Completed, r.Outcome);
        Assert.True(seen.Count >= 2);
        Assert.Equal(seen[0].Nr, seen[1].Nr);
        Assert.Equal(new ulong[] { 10, 11, 12, 13, 14, 15 }, seen[0].Args);
        Assert.Equal(seen[0].Args, seen[1].Args);
        Assert.Equal(m.LandingPad, seen[0].Ip);        // a fast entry's ip is already the landing pad at the stop
        // SYSEMU was in effect when the re-issued call entered, so it too is skipped (the tracer dropped SYSEMU only
        // at its stop): ax keeps the -ENOSYS the int $0x80 entry stored.
        Assert.Equal(-Errno.ENOSYS, r.Return);
    }
}

public class PtraceSignalStopTests
{
    [Fact]
    public void TracerSeesTheSignalAndMaySuppressIt()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        var seen = new List<int>();
        m.Tracer.OnStop = s =>
        {
            if (s.Kind != PtraceStopKind.SignalDelivery) return;
            seen.Add(s.Signal);
            s.Signal = 0; // PTRACE_CONT with signal 0: the SIGTERM never reaches the task
        };
        var r = m.InvokeSyscall(37, [4242, (ulong)Signal.SIGTERM]);
        Assert.True(r.Completed, r.Outcome);
        Assert.False(m.Task.Exited);
        Assert.Equal([Signal.SIGTERM], seen);
    }
}

public class PtraceSingleStepTests
{
    [Fact]
    public void SingleSteppingReportsEachUserInstructionAsASigtrapStop()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        var trapIps = new List<ulong>();
        m.Tracer.OnStop = s =>
        {
            if (s.Kind != PtraceStopKind.SignalDelivery) return;
            Assert.Equal(Signal.SIGTRAP, s.Signal);
            trapIps.Add(s.Peek("ip"));
            s.Signal = 0;                                 // the debugger swallows the trap
            if (trapIps.Count == 3) m.Tracer.SingleStep = false;
        };
        m.Tracer.SingleStep = true;
        // getpid via int $0x80, then three NOPs and a fourth. The model starts the task without TF; the int $0x80 is
        // reported at its exit by report_single_step() (INT clears TF, so no #DB comes from it), and the return to
        // user mode switches TF on for the NOPs.
        byte[] code = [0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0x90, 0x90, 0x90, 0x90];
        var r = m.RunUserCode(code);
        Assert.Equal("ran to the end of the code", r.Outcome);
        ulong at = m.UserCodeAddress;
        Assert.Equal([at + 7, at + 8, at + 9], trapIps);  // the syscall's exit, then a trap after each NOP
        Assert.Equal(0UL, r.After.Flags & Core.Cpu.RFlags.TF);   // the forced TF is gone once stepping stops
        Assert.False(m.Task.Exited);
    }
}

/// <summary>
/// PTRACE_SINGLESTEP and PTRACE_SYSEMU_SINGLESTEP over a syscall instruction (ptrace_resume; syscall_trace_enter;
/// syscall_exit_work's report_single_step(): "step" only when SYSEMU is not set).
/// </summary>
public class PtraceSysemuSingleStepTests
{
    private static (LinuxMachine M, List<(PtraceStopKind Kind, int Signal, ulong Ip, long Nr)> Stops) Run(PtraceRequest request, int tbits)
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, tbits);
        var stops = new List<(PtraceStopKind, int, ulong, long)>();
        m.Tracer.OnStop = s =>
        {
            stops.Add((s.Kind, s.Signal, s.Peek("ip"), s.Kind == PtraceStopKind.SignalDelivery ? -1 : s.SyscallNumber));
            if (s.Kind == PtraceStopKind.SignalDelivery) s.Signal = 0;   // the debugger swallows its SIGTRAPs
            m.Tracer.Resume(request);
        };
        m.Tracer.Resume(request);
        // A NOP to turn stepping on, then getpid, then two NOPs.
        byte[] code = tbits == 64
            ? [0x90, 0xB8, 39, 0, 0, 0, 0x0F, 0x05, 0x90, 0x90]
            : [0x90, 0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0x90, 0x90];
        var r = m.RunUserCode(code);
        Assert.Equal("ran to the end of the code", r.Outcome);
        return (m, stops);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void SysemuSinglestepReportsTheSyscallByItsEntryStopAndSkipsIt(int tbits)
    {
        var (m, stops) = Run(PtraceRequest.SysemuSinglestep, tbits);
        ulong at = m.UserCodeAddress;
        long nr = tbits == 64 ? 39 : 20;
        // No exit stop and no step SIGTRAP for the syscall instruction: its entry stop is the report.
        Assert.Equal([(PtraceStopKind.SyscallEntry, 0, at + 8, nr), (PtraceStopKind.SignalDelivery, Signal.SIGTRAP, at + 9, -1L),
            (PtraceStopKind.SignalDelivery, Signal.SIGTRAP, at + 10, -1L)], stops);
        ulong enosys = unchecked((ulong)-Errno.ENOSYS);
        Assert.Equal(tbits == 64 ? enosys : (uint)enosys, tbits == 64 ? m.Cpu[Gpr.Rax] : (uint)m.Cpu[Gpr.Rax]);   // skipped
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void SinglestepRunsTheSyscallAndReportsItAtItsExit(int tbits)
    {
        var (m, stops) = Run(PtraceRequest.Singlestep, tbits);
        ulong at = m.UserCodeAddress;
        Assert.Equal([(PtraceStopKind.SignalDelivery, Signal.SIGTRAP, at + 8, -1L), (PtraceStopKind.SignalDelivery, Signal.SIGTRAP, at + 9, -1L),
            (PtraceStopKind.SignalDelivery, Signal.SIGTRAP, at + 10, -1L)], stops);
        Assert.Equal(4242UL, m.Cpu[Gpr.Rax]);                                                  // getpid ran
    }

    [Fact]
    public void ResumeArmsWhatPtraceResumeArms()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, 64);
        m.Tracer.OnStop = _ => { };
        m.Tracer.Resume(PtraceRequest.Sysemu);
        Assert.Equal(ThreadFlags.SyscallEmu, m.Task.Flags & (ThreadFlags.SyscallEmu | ThreadFlags.SyscallTrace));
        Assert.False(m.Tracer.SingleStep);
        m.Tracer.Resume(PtraceRequest.Syscall);
        Assert.Equal(ThreadFlags.SyscallTrace, m.Task.Flags & (ThreadFlags.SyscallEmu | ThreadFlags.SyscallTrace));
        m.Tracer.Resume(PtraceRequest.SysemuSinglestep);
        Assert.True(m.Tracer.SingleStep);
        Assert.True(m.Tracer.Sysemu);
        m.Tracer.Resume(PtraceRequest.Cont);
        Assert.Equal((ThreadFlags)0, m.Task.Flags & (ThreadFlags.SyscallEmu | ThreadFlags.SyscallTrace));
        Assert.False(m.Tracer.SingleStep);
    }
}

public class PtraceRegressionTests
{
    [Fact]
    public void TracerCanWriteR10ToR15()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, 64);
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallExit) { s.Poke("r10", 5); s.Poke("R15", 6); s.Poke("rax", 7); } };
        var r = m.InvokeSyscall(39);
        Assert.Equal(5UL, r.After.R10);
        Assert.Equal(6UL, r.After.R15);
        Assert.Equal(7, r.Return);
    }

    [Fact]
    public void Int80FromA64BitTaskTakesI386Arguments()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, 64);
        var r = m.InvokeSyscall(37, [4242, 0], EntryMethod.Int80);   // i386 kill(getpid(), 0)
        Assert.Equal(0, r.Return);
        Assert.Equal(4242UL, r.Before.Bx);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void Linux42SingleSteppedSysenterPutsTfBackInsteadOfOopsing(int kbits)
    {
        var m = new LinuxMachine(new Linux42(), CpuProfile.IntelSkylake, kbits);
        ulong handler = m.UserText + 0x100;
        m.Memory.WriteBytes(handler, [0xC3]);
        m.SignalState.Actions[Signal.SIGTRAP] = new SignalAction(handler, 0, 0, 0);
        var code = SyscallTools.Core.Tests.Support.Asm.Build(32, m.UserCodeAddress, a =>
        {
            a.pushfd(); a.or(Iced.Intel.AssemblerRegisters.__dword_ptr[Iced.Intel.AssemblerRegisters.esp], 0x100); a.popfd();
            a.mov(Iced.Intel.AssemblerRegisters.eax, 20);
            a.call((uint)m.KernelVsyscall);
            a.pushfd(); a.pop(Iced.Intel.AssemblerRegisters.ebx);
            a.pushfd(); a.and(Iced.Intel.AssemblerRegisters.__dword_ptr[Iced.Intel.AssemblerRegisters.esp], ~0x100); a.popfd();
        });
        var r = m.RunUserCode(code, budget: 200_000);
        Assert.Null(r.Oops);
        Assert.Equal("ran to the end of the code", r.Outcome);
        Assert.NotEqual(0UL, r.After.Bx & 0x100);   // TF survived the call
    }
}

public class PtraceEdgeTests
{
    [Fact]
    public void DroppingSysemuAtTheStopStillSkipsThatCall()
    {
        // syscall_trace_enter reads the work flags before the stop: SYSEMU seen at entry means this call is skipped.
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, 64);
        m.Tracer.Sysemu = true;
        m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallEntry) { m.Tracer.Sysemu = false; s.Poke("ax", 55); } };
        var r = m.InvokeSyscall(39);
        Assert.Equal(55, r.Return);
    }

    [Fact]
    public void ABlockedCallHasNoExitStop()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        var kinds = new List<PtraceStopKind>();
        m.Tracer.OnStop = s => kinds.Add(s.Kind);
        var r = m.InvokeSyscall(29);                      // pause() with nothing pending: sleeps forever
        Assert.False(r.Completed);
        Assert.Equal([PtraceStopKind.SyscallEntry], kinds);
    }
}

public class TrapSiginfoTests
{
    /// <summary>
    /// A trap's siginfo (si_code, address, trapno) travels with the signal it raised and no other: a debugger that
    /// single-steps over a system call and swallows the SIGTRAP (report_single_step, TRAP_BRKPT) must not leave those
    /// details for the next, unrelated signal — a kill() that must read SI_USER with the sender's pid.
    /// </summary>
    [Fact]
    public void ASwallowedStepTrapLeavesNothingForTheNextSignal()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        var codes = new List<(int Sig, int Code)>();
        m.Tracer.OnStop = s =>
        {
            if (s.Kind != PtraceStopKind.SignalDelivery) return;
            var info = m.SigInfoForTracer(s.Signal);
            codes.Add((s.Signal, BitConverter.ToInt32(info, 8)));
            if (s.Signal == Signal.SIGTRAP) s.Signal = 0;   // the debugger swallows its traps
            else { m.Tracer.SingleStep = false; s.Signal = 0; }
        };
        m.Tracer.SingleStep = true;
        // getpid via int $0x80 (stepping starts on its return), then kill(getpid(), SIGUSR1) via int $0x80.
        byte[] code = [0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xB8, 37, 0, 0, 0, 0xBB, 0x92, 0x10, 0, 0, 0xB9, 10, 0, 0, 0, 0xCD, 0x80, 0x90];
        m.RunUserCode(code);
        Assert.Contains((Signal.SIGTRAP, 1), codes);                                   // TRAP_BRKPT from report_single_step
        Assert.Equal(0, codes.First(c => c.Sig == Signal.SIGUSR1).Code);               // SI_USER, not the trap's code
    }
}
