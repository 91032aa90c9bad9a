using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.CpuTests;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>
/// TF single-step (SDM Vol. 3B §17.3.1.4): a trap after each instruction that started with TF set, none after
/// an instruction that clears TF as part of its control transfer (SYSCALL with FMASK, INT n), and a trap at
/// the first kernel instruction after SYSENTER, which leaves TF alone.
/// </summary>
public class SingleStepTests
{
    private static Cpu Machine(CpuProfile p, TestMode mode, Action<Assembler> body)
    {
        var cpu = TestMachine.Create(p, mode);
        TestMachine.Code(cpu, Asm.Build(mode == TestMode.Long64 ? 64 : 32, cpu.Rip, body));
        return cpu;
    }

    [Fact]
    public void PopfThatSetsTfTrapsAfterTheNextInstruction()
    {
        var cpu = Machine(CpuProfile.AmdZen3, TestMode.Long64, a =>
        {
            a.pushfq();
            a.or(__qword_ptr[rsp], 0x100);
            a.popfq();      // sets TF: no trap after the POPF itself
            a.nop();        // trap after this one
            a.nop();
        });
        var r = cpu.Run(100);
        Assert.Equal(StopReason.Fault, r.Reason);
        Assert.Equal(Vector.DB, r.Fault!.Vector);
        ulong firstNop = TestMachine.UserCode + 1 + 8 + 1; // pushfq (1) + or qword [rsp], imm (8) + popfq (1)
        Assert.Equal(firstNop + 1, r.Fault.Rip);             // a trap reports the next instruction
        Assert.Equal(4, r.Instructions);
        Assert.NotEqual(0UL, cpu.Dr6 & Cpu.Dr6Bs);
    }

    [Fact]
    public void TrapIsDeliveredThroughTheIdtWithTfClearedInTheHandler()
    {
        var cpu = Machine(CpuProfile.IntelSkylake, TestMode.Long64, a => { a.nop(); a.nop(); });
        cpu.DeliverFaults = true;
        cpu.Rflags |= RFlags.TF;
        var r = cpu.Run(100);
        Assert.Equal(StopReason.Halted, r.Reason);             // the #DB handler's HLT
        Assert.Equal(TestMachine.Handler(TestMode.Long64, Vector.DB) + 1, cpu.Rip);
        Assert.False(cpu.Flag(RFlags.TF));
        ulong frame = cpu[Gpr.Rsp];
        Assert.Equal(TestMachine.UserCode + 1, cpu.Memory.ReadUInt64(frame));                 // RIP after the first NOP
        Assert.NotEqual(0UL, cpu.Memory.ReadUInt64(frame + 16) & RFlags.TF);                  // saved RFLAGS keeps TF
    }

    [Fact]
    public void SyscallWithTfMaskedDoesNotTrapInTheKernel()
    {
        var cpu = Machine(CpuProfile.AmdZen3, TestMode.Long64, a => a.syscall());
        cpu.Rflags |= RFlags.TF;
        var r = cpu.Run(100);
        // No #DB: the run reaches the HLT at LSTAR, which is a privileged instruction executed in ring 0.
        Assert.Equal(StopReason.Halted, r.Reason);
        Assert.Equal(TestMachine.Lstar + 1, cpu.Rip);
        Assert.NotEqual(0UL, cpu[Gpr.R11] & RFlags.TF); // the user's TF is saved in R11
    }

    [Fact]
    public void SyscallWithTfOutsideFmaskTrapsAtTheKernelEntry()
    {
        var cpu = Machine(CpuProfile.AmdZen3, TestMode.Long64, a => a.syscall());
        cpu.WriteMsr(Msr.Fmask, TestMachine.Fmask & ~RFlags.TF);
        cpu.Rflags |= RFlags.TF;
        var r = cpu.Run(100);
        Assert.Equal(StopReason.Fault, r.Reason);
        Assert.Equal(Vector.DB, r.Fault!.Vector);
        Assert.Equal(TestMachine.Lstar, r.Fault.Rip);
        Assert.Equal(0, r.Fault.Cpl);
    }

    [Fact]
    public void SysenterKeepsTfSoTheFirstKernelInstructionTraps()
    {
        var cpu = Machine(CpuProfile.IntelSkylake, TestMode.Compat, a => a.sysenter());
        cpu.Rflags |= RFlags.TF;
        var r = cpu.Run(100);
        Assert.Equal(StopReason.Fault, r.Reason);
        Assert.Equal(Vector.DB, r.Fault!.Vector);
        Assert.Equal(TestMachine.SysenterEip(TestMode.Compat), r.Fault.Rip); // reported at the entry point, in ring 0
        Assert.Equal(0, r.Fault.Cpl);
    }

    [Fact]
    public void IntNClearsTfAndDoesNotTrap()
    {
        var cpu = Machine(CpuProfile.AmdZen3, TestMode.Compat, a => a.@int(0x80));
        cpu.Rflags |= RFlags.TF;
        var r = cpu.Run(100);
        Assert.Equal(StopReason.Halted, r.Reason);
        Assert.Equal(TestMachine.Handler(TestMode.Compat, 0x80) + 1, cpu.Rip);
    }

    /// <summary>
    /// SYSRET that loads TF from R11 traps at once, before any user instruction runs — unlike IRET. Sources: the
    /// kernel's opportunistic-SYSRET check ("SYSRET can restore TF, but unlike IRET, restoring TF results in a trap from
    /// userspace immediately after SYSRET", arch/x86/entry/entry_64.S, syscall_64.c) and QEMU's translation of SYSRET
    /// ("The TF bit is checked after the sysret insn completes. This allows #DB to be generated 'as if' the syscall insn
    /// in userspace has just completed", target/i386/tcg/translate.c).
    /// </summary>
    [Theory]
    [InlineData("intel", 64)]
    [InlineData("amd", 64)]
    [InlineData("intel", 32)]
    [InlineData("amd", 32)]
    public void SysretWithTfInR11TrapsBeforeTheFirstUserInstruction(string vendor, int size)
    {
        var cpu = TestMachine.Create(vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, TestMode.Long64, kernel: true);
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => { if (size == 64) a.sysretq(); else a.sysret(); }));
        cpu.Memory.WriteBytes(TestMachine.UserCode, [0x90, 0x90]);
        cpu[Gpr.Rcx] = TestMachine.UserCode;
        cpu[Gpr.R11] = 0x302; // IF | TF
        var r = cpu.Run(100);
        Assert.Equal(StopReason.Fault, r.Reason);
        Assert.Equal(Vector.DB, r.Fault!.Vector);
        Assert.Equal(TestMachine.UserCode, r.Fault.Rip);
        Assert.Equal(3, r.Fault.Cpl);
        Assert.Equal(1, r.Instructions);
        Assert.NotEqual(0UL, cpu.Dr6 & Cpu.Dr6Bs);
    }

    /// <summary>The same with an observer attached (the slow, instruction-by-instruction path).</summary>
    [Fact]
    public void SysretWithTfTrapsAtOnceAlsoWhenObserved()
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64, kernel: true);
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => a.sysretq()));
        cpu.Memory.WriteBytes(TestMachine.UserCode, [0x90, 0x90]);
        cpu[Gpr.Rcx] = TestMachine.UserCode;
        cpu[Gpr.R11] = 0x302;
        cpu.Observer = new CountingObserver();
        var r = cpu.Run(100);
        Assert.Equal(Vector.DB, r.Fault!.Vector);
        Assert.Equal(TestMachine.UserCode, r.Fault.Rip);
        Assert.Equal(1, r.Instructions);
    }

    private sealed class CountingObserver : ICpuObserver
    {
        public void InstructionRetired(Cpu cpu, ulong ip, int cpl) { }
        public void FarTransfer(Cpu cpu, FarTransfer transfer) { }
        public void Fault(Cpu cpu, CpuFault fault) { }
        public void NativeCall(Cpu cpu, ulong address, string name) { }
    }

    [Fact]
    public void MovSsSuppressesTheTrapForOneInstruction()
    {
        var cpu = Machine(CpuProfile.AmdZen3, TestMode.Compat, a => { a.mov(ax, ss); a.mov(ss, ax); a.nop(); a.nop(); });
        cpu.Rflags |= RFlags.TF;
        var r = cpu.Run(100);
        // Traps after `mov ax, ss`; resume; `mov ss, ax` blocks the trap until after the following NOP.
        Assert.Equal(Vector.DB, r.Fault!.Vector);
        ulong afterFirst = r.Fault.Rip;
        cpu.Rip = afterFirst;
        var r2 = cpu.Run(100);
        Assert.Equal(Vector.DB, r2.Fault!.Vector);
        Assert.Equal(afterFirst + 2 + 1, r2.Fault.Rip); // mov ss, ax (2 bytes) + nop: one trap for both
    }
}
