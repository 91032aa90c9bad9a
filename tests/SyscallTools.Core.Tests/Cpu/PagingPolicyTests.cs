using SyscallTools.Core.Cpu;
using SyscallTools.Core.Memory;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.CpuTests;

/// <summary>SMEP, SMAP and CR0.WP (SDM Vol. 3A §4.6), the RF image of a delivered fault, and MOV to CR4 at ring 0.</summary>
public class PagingPolicyTests
{
    [Fact]
    public void SmepStopsTheKernelExecutingUserPages()
    {
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, TestMode.Long64, kernel: true);
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => { a.mov(rax, TestMachine.UserCode); a.jmp(rax); }));
        cpu.Memory.WriteBytes(TestMachine.UserCode, [0x90]);
        Assert.Equal(StopReason.BudgetExhausted, cpu.Run(3).Reason); // without SMEP the kernel runs the user NOP

        cpu = TestMachine.Create(CpuProfile.IntelSkylake, TestMode.Long64, kernel: true);
        cpu.Cr4 |= ControlBits.Cr4Smep;
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => { a.mov(rax, TestMachine.UserCode); a.jmp(rax); }));
        var r = cpu.Run(3);
        Assert.Equal(StopReason.Fault, r.Reason);
        Assert.Equal(Vector.PF, r.Fault!.Vector);
        Assert.Equal(AddressSpace.PfPresent | AddressSpace.PfFetch, r.Fault.ErrorCode);
    }

    [Theory]
    [InlineData(false, false, false)] // no SMAP: the kernel may read user memory
    [InlineData(true, false, true)]   // SMAP: it may not
    [InlineData(true, true, false)]   // SMAP with EFLAGS.AC (after STAC): it may again
    public void SmapGuardsKernelAccessToUserData(bool smap, bool ac, bool faults)
    {
        var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64, kernel: true);
        if (smap) cpu.Cr4 |= ControlBits.Cr4Smap;
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => { if (ac) a.stac(); a.mov(eax, __dword_ptr[TestMachine.UserData]); }));
        var r = cpu.Run(ac ? 2 : 1);
        Assert.Equal(faults ? StopReason.Fault : StopReason.BudgetExhausted, r.Reason);
        if (faults) Assert.Equal(AddressSpace.PfPresent, r.Fault!.ErrorCode);
    }

    [Fact]
    public void SupervisorWriteToReadOnlyPageFaultsOnlyWithWp()
    {
        foreach (bool wp in new[] { true, false })
        {
            var cpu = TestMachine.Create(CpuProfile.AmdZen3, TestMode.Long64, kernel: true);
            if (!wp) cpu.Cr0 &= ~ControlBits.Cr0Wp;
            cpu.Memory.Protect(TestMachine.UserData, 0x1000, PageFlags.UserReadOnly);
            TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => a.mov(__dword_ptr[TestMachine.UserData], 1)));
            var r = cpu.Run(1);
            Assert.Equal(wp ? StopReason.Fault : StopReason.BudgetExhausted, r.Reason);
        }
    }

    [Fact]
    public void DeliveredFaultPushesRfButTrapDoesNot()
    {
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, TestMode.Long64);
        cpu.DeliverFaults = true;
        TestMachine.Code(cpu, [0x0F, 0x0B]); // ud2: a fault
        Assert.Equal(StopReason.Halted, cpu.Run(5).Reason);
        Assert.NotEqual(0UL, cpu.Memory.ReadUInt64(cpu[Gpr.Rsp] + 16) & RFlags.RF);

        cpu = TestMachine.Create(CpuProfile.IntelSkylake, TestMode.Long64);
        cpu.DeliverFaults = true;
        TestMachine.Code(cpu, [0xCC]); // int3: a trap
        Assert.Equal(StopReason.Halted, cpu.Run(5).Reason);
        Assert.Equal(0UL, cpu.Memory.ReadUInt64(cpu[Gpr.Rsp] + 16) & RFlags.RF);
        Assert.Equal(TestMachine.UserCode + 1, cpu.Memory.ReadUInt64(cpu[Gpr.Rsp]));
    }

    [Fact]
    public void MovToCr4InRing0ChangesThePolicy()
    {
        var cpu = TestMachine.Create(CpuProfile.IntelSkylake, TestMode.Long64, kernel: true);
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a =>
        {
            a.mov(rax, cr4); a.or(rax, (int)ControlBits.Cr4Smap); a.mov(cr4, rax);
            a.mov(eax, __dword_ptr[TestMachine.UserData]);
        }));
        var r = cpu.Run(10);
        Assert.Equal(StopReason.Fault, r.Reason);
        Assert.NotEqual(0UL, cpu.Cr4 & ControlBits.Cr4Smap);
    }
}
