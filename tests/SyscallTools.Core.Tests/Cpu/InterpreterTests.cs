using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Memory;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.CpuTests;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>The interpreter's contract: budgets, the decode cache, modes, determinism, observers, escalation.</summary>
public class InterpreterTests
{
    [Fact]
    public void BudgetStopsAnInfiniteLoopExactly()
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        TestMachine.Code(cpu, [0xEB, 0xFE]); // jmp $
        var r = cpu.Run(12345);
        Assert.Equal(StopReason.BudgetExhausted, r.Reason);
        Assert.Equal(12345, r.Instructions);
        Assert.Equal(TestMachine.UserCode, cpu.Rip);
    }

    [Fact]
    public void RepWithHugeCountIsBoundedByTheBudget()
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        var code = Asm.Build(64, cpu.Rip, a => { a.mov(rdi, TestMachine.UserData); a.mov(rcx, -1L); a.rep.stosb(); });
        TestMachine.Code(cpu, code);
        cpu.Memory.Map(TestMachine.UserData, 0x10_0000, PageFlags.UserData);
        var r = cpu.Run(1000);
        Assert.Equal(StopReason.BudgetExhausted, r.Reason);
        Assert.Equal(TestMachine.UserCode + (ulong)code.Length - 2, cpu.Rip); // still on the REP STOSB, ready to continue
        Assert.True(cpu[Gpr.Rcx] < ulong.MaxValue);
    }

    [Fact]
    public void WritingCodeInvalidatesTheDecodedBlock()
    {
        // The store rewrites the immediate of the next instruction in the same block: mov eax, 1 → mov eax, 2.
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        cpu.Memory.Protect(TestMachine.UserCode, 0x1000, PageFlags.User | PageFlags.Writable);
        // mov byte [rip+1], 2 (the byte after it is the next instruction's opcode; +1 is its immediate); mov eax, 1; nop
        byte[] code = [0xC6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x02, 0xB8, 0x01, 0x00, 0x00, 0x00, 0x90];
        TestMachine.Code(cpu, code);
        var r = cpu.Run(3);
        Assert.Equal(StopReason.BudgetExhausted, r.Reason);
        Assert.Equal(2UL, cpu[Gpr.Rax]);
    }

    [Fact]
    public void CachedBlocksRecheckFetchPermissionAfterProtect()
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        TestMachine.Code(cpu, [0x90, 0xEB, 0xFD]); // nop; jmp back to the nop
        Assert.Equal(StopReason.BudgetExhausted, cpu.Run(10).Reason);
        cpu.Memory.Protect(TestMachine.UserCode, 0x1000, PageFlags.UserData); // now NX
        var r = cpu.Run(10);
        Assert.Equal(StopReason.Fault, r.Reason);
        Assert.Equal(Vector.PF, r.Fault!.Vector);
    }

    [Theory]
    [InlineData(TestMode.Long64, CpuMode.Long64)]
    [InlineData(TestMode.Compat, CpuMode.Compat32)]
    [InlineData(TestMode.Legacy, CpuMode.Legacy32)]
    public void ModeFollowsEferLmaAndTheCsCache(TestMode test, CpuMode expected)
    {
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, test);
        Assert.Equal(expected, cpu.Mode);
    }

    [Fact]
    public void ThirtyTwoBitWritesZeroExtendAndNarrowWritesMerge()
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a =>
        {
            a.mov(rax, -1L); a.mov(eax, 5);
            a.mov(rbx, -1L); a.mov(bx, 7); a.mov(bh, 1);
        }));
        cpu.Run(5);
        Assert.Equal(5UL, cpu[Gpr.Rax]);
        Assert.Equal(0xFFFF_FFFF_FFFF_0107UL, cpu[Gpr.Rbx]);
    }

    [Fact]
    public void RdtscIsAVirtualClockSoRunsRepeat()
    {
        ulong Once()
        {
            var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
            TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => { a.nop(); a.nop(); a.rdtsc(); }));
            cpu.Run(3);
            return (cpu[Gpr.Rdx] << 32) | cpu[Gpr.Rax];
        }
        Assert.Equal(Once(), Once());
        Assert.Equal(2UL, Once()); // two instructions retired before RDTSC reads the counter
    }

    private sealed class Recorder : ICpuObserver
    {
        public List<FarTransfer> Far { get; } = new();
        public List<CpuFault> Faults { get; } = new();
        public int Retired;
        public void InstructionRetired(Cpu cpu, ulong ip, int cpl) => Retired++;
        public void FarTransfer(Cpu cpu, FarTransfer t) => Far.Add(t);
        public void Fault(Cpu cpu, CpuFault fault) => Faults.Add(fault);
        public void NativeCall(Cpu cpu, ulong address, string name) { }
    }

    [Fact]
    public void ObserverSeesInstructionsFarTransfersAndFaults()
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Compat);
        var rec = new Recorder();
        cpu.Observer = rec;
        cpu.DeliverFaults = true;
        TestMachine.Code(cpu, Asm.Build(32, cpu.Rip, a => { a.nop(); a.syscall(); }));
        var r = cpu.Run(10);
        Assert.Equal(StopReason.Halted, r.Reason);
        Assert.Equal(3, rec.Retired); // nop, syscall, hlt
        var t = Assert.Single(rec.Far);
        Assert.Equal(FarTransferKind.Syscall, t.Kind);
        Assert.Equal((3, CpuMode.Compat32, 0, CpuMode.Long64), (t.FromCpl, t.FromMode, t.ToCpl, t.ToMode));
        Assert.Equal(TestMachine.Cstar, t.ToIp);
        Assert.Empty(rec.Faults);
        Assert.Equal(3UL, cpu.InstructionsRetired);
    }

    [Fact]
    public void ExceptionWithNoIdtEscalatesToTripleFault()
    {
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, TestMode.Long64);
        cpu.DeliverFaults = true;
        cpu.Idtr = new DescriptorTable(0, 0);
        TestMachine.Code(cpu, [0x0F, 0x0B]); // ud2
        var r = cpu.Run(10);
        Assert.Equal(StopReason.Shutdown, r.Reason);
    }

    [Fact]
    public void PageFaultWhileDeliveringPageFaultIsDoubleFault()
    {
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, TestMode.Long64);
        cpu.DeliverFaults = true;
        cpu.Memory.WriteUInt64(TestMachine.Tss(TestMode.Long64) + 4, 0xFFFF_FFFF_9000_0000); // RSP0 unmapped
        // #DF (vector 8) uses IST1, which is mapped.
        var (lo, hi) = DescriptorBuilder.Gate64(0x10, TestMachine.Handler(TestMode.Long64, 8), 0, trap: false, ist: 1);
        cpu.Memory.WriteUInt64(TestMachine.Idt(TestMode.Long64) + 8 * 16, lo);
        cpu.Memory.WriteUInt64(TestMachine.Idt(TestMode.Long64) + 8 * 16 + 8, hi);
        cpu.Memory.WriteUInt64(TestMachine.Tss(TestMode.Long64) + 0x24, TestMachine.KernelStackTop(TestMode.Long64));
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => a.mov(eax, __dword_ptr[0x10_0000])));
        var r = cpu.Run(10);
        Assert.Equal(StopReason.Halted, r.Reason);
        Assert.Equal(TestMachine.Handler(TestMode.Long64, Vector.DF) + 1, cpu.Rip);
        Assert.Equal(0UL, cpu.Memory.ReadUInt64(cpu[Gpr.Rsp])); // #DF pushes error code 0
    }

    [Fact]
    public void NativeFunctionRunsWhenExecutionReachesItsAddress()
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64);
        ulong fn = TestMachine.UserCode + 0x100;
        cpu.BindNative(fn, "answer", c => { c[Gpr.Rax] = 42; c.Rip = TestMachine.UserCode + 5; });
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => a.jmp(fn)));
        cpu.Memory.WriteBytes(TestMachine.UserCode + 5, [0x90]);
        var r = cpu.Run(3);
        Assert.Equal(StopReason.BudgetExhausted, r.Reason);
        Assert.Equal(42UL, cpu[Gpr.Rax]);
        Assert.Equal(TestMachine.UserCode + 6, cpu.Rip);
    }

    [Fact]
    public void RandomBytesNeverEscapeAsHostExceptions()
    {
        // Fuzz smoke: whatever the bytes, a run ends with a result (a fault, a stop, the budget), never a throw.
        var rng = new Random(20151009);
        foreach (var mode in new[] { TestMode.Long64, TestMode.Compat, TestMode.Legacy })
        {
            foreach (bool deliver in new[] { false, true })
            {
                for (int i = 0; i < 300; i++)
                {
                    var cpu = TestMachine.Create(i % 2 == 0 ? CpuProfile.AmdZen3 : CpuProfile.IntelSkylake, mode, kernel: i % 3 == 0);
                    cpu.DeliverFaults = deliver;
                    var bytes = new byte[64];
                    rng.NextBytes(bytes);
                    cpu.Memory.Protect(cpu.Rip & ~0xFFFUL, 0x1000, (cpu.Rip >> 63) != 0 || cpu.Rip >= TestMachine.K32 ? PageFlags.Writable : PageFlags.User | PageFlags.Writable);
                    TestMachine.Code(cpu, bytes);
                    for (int k = 0; k < 16; k++) cpu[(Gpr)k] = (ulong)rng.NextInt64();
                    cpu[Gpr.Rsp] = mode == TestMode.Legacy || cpu.Mode != CpuMode.Long64 ? 0x7ff800 : cpu[Gpr.Rsp];
                    var r = cpu.Run(500);
                    Assert.True(Enum.IsDefined(r.Reason));
                }
            }
        }
    }
}
