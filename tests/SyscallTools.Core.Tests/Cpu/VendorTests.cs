using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.CpuTests;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>Where Intel and AMD differ, run end to end with fault delivery on: the consequence, not just the flag.</summary>
public class VendorTests
{
    /// <summary>
    /// The CVE-2012-0217 shape: the kernel has restored the user RSP and executes SYSRETQ with a non-canonical RCX.
    /// Intel raises #GP while still in ring 0, so the exception frame is written with supervisor rights onto the
    /// user's stack. AMD completes the return and the fetch faults in ring 3, on the kernel stack from TSS.RSP0.
    /// </summary>
    [Theory]
    [InlineData("intel")]
    [InlineData("amd")]
    public void SysretToNonCanonicalRip(string vendor)
    {
        var profile = vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3;
        var cpu = TestMachine.Create(profile, TestMode.Long64, kernel: true);
        cpu.DeliverFaults = true;
        ulong userSp = TestMachine.UserStackTop - 0x100;
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => { a.mov(rsp, userSp); a.sysretq(); }));
        cpu[Gpr.Rcx] = 0x0000_8000_0000_0000;
        cpu[Gpr.R11] = 0x202;
        var r = cpu.Run(100);
        Assert.Equal(StopReason.Halted, r.Reason);
        Assert.Equal(TestMachine.Handler(TestMode.Long64, Vector.GP) + 1, cpu.Rip);
        ulong frame = cpu[Gpr.Rsp];
        ulong pushedCs = cpu.Memory.ReadUInt64(frame + 16);
        if (vendor == "intel")
        {
            Assert.Equal(((userSp & ~0xFUL) - 48), frame);                 // on the user stack
            Assert.Equal(0x10UL, pushedCs);                                 // interrupted ring 0
            Assert.Equal(TestMachine.KernelCode(TestMode.Long64) + 10, cpu.Memory.ReadUInt64(frame + 8)); // at the SYSRET
        }
        else
        {
            Assert.Equal(TestMachine.KernelStackTop(TestMode.Long64) - 48, frame); // on RSP0
            Assert.Equal(0x33UL, pushedCs);                                        // interrupted ring 3
            Assert.Equal(0x0000_8000_0000_0000UL, cpu.Memory.ReadUInt64(frame + 8));
        }
    }

    /// <summary>
    /// X86_BUG_SYSRET_SS_ATTRS: with a NULL kernel SS (as an interrupt from ring 3 leaves it), SYSRETL on AMD keeps the
    /// unusable SS cache, and the 32-bit task's first stack access faults; Intel loads a flat SS and the push works.
    /// </summary>
    [Theory]
    [InlineData("intel", false)]
    [InlineData("amd", true)]
    public void SysretlWithNullKernelSs(string vendor, bool faults)
    {
        var profile = vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3;
        var cpu = TestMachine.Create(profile, TestMode.Long64, kernel: true);
        TestMachine.Code(cpu, Asm.Build(64, cpu.Rip, a => { a.xor(eax, eax); a.mov(ss, ax); a.mov(rsp, TestMachine.UserStackTop - 0x100); a.sysret(); }));
        cpu.Memory.WriteBytes(TestMachine.UserCode, [0x50, 0x90]); // push eax; nop
        cpu[Gpr.Rcx] = TestMachine.UserCode;
        cpu[Gpr.R11] = 0x202;
        var r = cpu.Run(5);
        if (faults)
        {
            Assert.Equal(StopReason.Fault, r.Reason);
            Assert.True(r.Fault!.Vector == Vector.SS, r.ToString());
            Assert.Equal(TestMachine.UserCode, r.Fault.Rip);
            Assert.Equal(3, r.Fault.Cpl);
        }
        else
        {
            Assert.Equal(StopReason.BudgetExhausted, r.Reason);
            Assert.Equal(TestMachine.UserCode + 1, cpu.Rip);
        }
    }

    [Fact]
    public void CpuidNamesTheVendorAndHidesSyscallOutside64BitModeOnIntel()
    {
        foreach (var profile in CpuProfile.All)
        {
            foreach (var mode in new[] { TestMode.Long64, TestMode.Compat })
            {
                var cpu = TestMachine.Create(profile, mode);
                TestMachine.Code(cpu, Asm.Build(mode == TestMode.Long64 ? 64 : 32, cpu.Rip, a =>
                {
                    a.xor(eax, eax); a.cpuid(); a.mov(esi, ebx); a.mov(edi, edx); a.mov(ebp, ecx);
                    a.mov(eax, 0x8000_0001); a.cpuid();
                }));
                var r = cpu.Run(7);
                Assert.Equal(StopReason.BudgetExhausted, r.Reason);
                var vendor = string.Concat(new[] { cpu[Gpr.Rsi], cpu[Gpr.Rdi], cpu[Gpr.Rbp] }
                    .Select(v => System.Text.Encoding.ASCII.GetString(BitConverter.GetBytes((uint)v))));
                Assert.Equal(profile.VendorString, vendor);
                bool syscallBit = (cpu[Gpr.Rdx] & CpuProfile.ExtEdxSyscall) != 0;
                Assert.Equal(profile.Vendor == CpuVendor.Amd || mode == TestMode.Long64, syscallBit);
                Assert.NotEqual(0UL, cpu[Gpr.Rdx] & CpuProfile.ExtEdxLm);
            }
        }
    }

    [Fact]
    public void Int80IsDeliveredTheSameOnBothVendors()
    {
        foreach (var profile in CpuProfile.All)
        {
            var cpu = TestMachine.Create(profile, TestMode.Compat);
            cpu.DeliverFaults = true;
            TestMachine.Code(cpu, [0xCD, 0x80]);
            var r = cpu.Run(10);
            Assert.Equal(StopReason.Halted, r.Reason);
            Assert.Equal(TestMachine.Handler(TestMode.Compat, 0x80) + 1, cpu.Rip);
            Assert.Equal(0x23UL, cpu.Memory.ReadUInt64(cpu[Gpr.Rsp] + 8));
        }
    }
}
