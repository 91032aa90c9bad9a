using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// Signal delivery on the way out and sigreturn (kernel-semantics.md §6; selftest ptrace_syscall part 1: a signal
/// delivered on the exit of kill(getpid(), SIGUSR1) and the sigreturn after it keep every register).
/// </summary>
public class SignalTests
{
    private const ulong HandlerOffset = 0x100, CounterOffset = 0x200;

    /// <summary>A machine whose SIGUSR1 handler counts its runs in memory and returns.</summary>
    private static (LinuxMachine M, ulong Counter) WithHandler(string model, string vendor, int tbits, ulong flags, int kbits = 64)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, kbits, tbits);
        ulong handler = m.UserText + HandlerOffset, counter = m.UserDataArea + CounterOffset;
        var a = new Assembler(tbits);
        if (tbits == 32) a.inc(__dword_ptr[(uint)counter]); else a.inc(__dword_ptr[(long)counter]);
        a.ret();
        ulong restorer = m.UserText + 0x180;
        var w = new Core.Assembly.ByteListWriter();
        a.Assemble(w, handler);
        m.Memory.WriteBytes(handler, w.Bytes.ToArray());
        // A 64-bit restorer as libc has it: mov eax, __NR_rt_sigreturn; syscall.
        m.Memory.WriteBytes(restorer, [0xB8, 15, 0, 0, 0, 0x0F, 0x05]);
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler, flags | (tbits == 64 ? SignalAction.SaRestorer : 0), tbits == 64 ? restorer : 0, 0);
        return (m, counter);
    }


    [Theory]
    [InlineData("linux-6.18", "amd", 32, EntryMethod.Vdso, 0UL)]
    [InlineData("linux-6.18", "intel", 32, EntryMethod.Vdso, SignalAction.SaSiginfo)]
    [InlineData("linux-6.18", "amd", 32, EntryMethod.Int80, 0UL)]
    [InlineData("linux-4.4", "intel", 32, EntryMethod.Vdso, 0UL)]
    [InlineData("linux-4.2", "amd", 32, EntryMethod.Vdso, SignalAction.SaSiginfo)]
    [InlineData("linux-6.18", "amd", 64, EntryMethod.Syscall, SignalAction.SaSiginfo)]
    [InlineData("linux-4.4", "intel", 64, EntryMethod.Syscall, SignalAction.SaSiginfo)]
    [InlineData("linux-6.18", "intel", 32, EntryMethod.Vdso, 0UL, 32)]
    [InlineData("linux-6.18", "amd", 32, EntryMethod.Int80, SignalAction.SaSiginfo, 32)]
    [InlineData("linux-4.4", "intel", 32, EntryMethod.Vdso, SignalAction.SaSiginfo, 32)]
    [InlineData("linux-4.2", "intel", 32, EntryMethod.Vdso, 0UL, 32)]
    public void SignalOnTheWayOutKeepsEveryRegister(string model, string vendor, int tbits, EntryMethod via, ulong flags, int kbits = 64)
    {
        var (m, counter) = WithHandler(model, vendor, tbits, flags, kbits);
        var r = m.InvokeSyscall(tbits == 32 ? 37 : 62, [4242, Signal.SIGUSR1], via);   // kill(getpid(), SIGUSR1)
        Assert.True(r.Completed, r.Outcome);
        Assert.Equal(0, r.Return);
        Assert.Equal(1u, m.Memory.ReadUInt32(counter));                                 // the handler ran once
        Assert.Equal("SIGUSR1", r.Signal);
        // The last exit is sigreturn's: for a 32-bit task ip is no longer the landing pad, so IRET; a 64-bit
        // rt_sigreturn may legitimately leave by SYSRETQ when the restored registers pass every check.
        if (tbits == 32) Assert.Equal("IRET", r.ExitInstruction);
        Assert.Equal(r.ExitPath!.Instruction, r.ExitInstruction);
        var before = r.Before.ByName();
        var after = r.After.ByName();
        string[] regs = tbits == 32 ? ["bx", "cx", "dx", "si", "di", "bp", "sp"] : ["bx", "dx", "si", "di", "bp", "sp", "r8", "r9", "r10", "r12", "r13", "r14", "r15"];
        foreach (var reg in regs) Assert.True(Mask(before[reg], tbits) == Mask(after[reg], tbits), $"{reg}: 0x{before[reg]:x} -> 0x{after[reg]:x}");
        Assert.Equal(0UL, m.SignalState.Blocked);                                        // sigreturn restored the mask
    }

    private static ulong Mask(ulong v, int bits) => bits == 32 ? (uint)v : v;

    [Fact]
    public void PauseInterruptedByAHandlerReturnsEintr()
    {
        var (m, counter) = WithHandler("linux-6.18", "amd", 32, 0);
        m.SendSignal(Signal.SIGUSR1);
        var r = m.InvokeSyscall(29);                                                      // pause()
        Assert.True(r.Completed, r.Outcome);
        Assert.Equal("EINTR", r.Errno);                                                   // -ERESTARTNOHAND with a handler
        Assert.Equal(1u, m.Memory.ReadUInt32(counter));
    }

    [Fact]
    public void ErestartsysWithSaRestartRestartsThroughIntEightyAtLandingPadMinusTwo()
    {
        // With SA_RESTART, -ERESTARTSYS re-runs the call: ip -= 2 from the landing pad is the vDSO's int $0x80.
        var (m, counter) = WithHandler("linux-6.18", "intel", 32, SignalAction.SaRestart);
        int calls = 0;
        m.SendSignal(Signal.SIGUSR1);
        // A call that reports -ERESTARTSYS once, then succeeds: nanosleep-like behaviour through the tracer hook.
        m.Tracer.OnStop = s =>
        {
            if (s.Kind == SyscallTools.Core.Linux.Ptrace.PtraceStopKind.SyscallExit && calls++ == 0) s.Poke("ax", unchecked((ulong)(uint)-Errno.ERESTARTSYS));
        };
        var r = m.InvokeSyscall(20, via: EntryMethod.Vdso, trace: true);
        Assert.True(r.Completed, r.Outcome);
        Assert.Equal(4242, r.Return);
        Assert.Equal(1u, m.Memory.ReadUInt32(counter));
        // The restart came back in through the int $0x80 just before the landing pad.
        Assert.Contains(r.Trace!, e => e.Kind == "insn" && e.Address == m.LandingPad - 2 && e.Text == "int 0x80");
    }

    [Fact]
    public void IgnoredSignalRestartsPauseWhichThenSleepsForever()
    {
        // ptrace_syscall part 3: SIGUSR1 ignored with SA_RESTART; pause() restarts and blocks again.
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(SignalAction.SigIgn, SignalAction.SaRestart, 0, 0);
        m.SendSignal(Signal.SIGUSR1);
        var r = m.InvokeSyscall(29, via: EntryMethod.Vdso, trace: true);
        Assert.False(r.Completed);
        Assert.Contains("pause()", r.Outcome);
        Assert.Contains(r.Trace!, e => e.Kind == "insn" && e.Address == m.LandingPad - 2 && e.Text == "int 0x80");
    }

    [Fact]
    public void DefaultActionKillsAndSigsegvFromAFaultCarriesTheAddress()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.IntelSkylake);
        var r = m.RunUserCode([0xA1, 0x00, 0x10, 0x00, 0x00]);                             // mov eax, [0x1000]
        Assert.Equal("SIGSEGV", r.Signal);
        Assert.True(r.TaskExited);
        Assert.Equal(Vector.PF, r.Fault!.Vector);
        Assert.Equal(0x1000UL, r.Fault.Cr2);
    }
}
