using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// The Linux x86 selftests' assertions run on the models (../shared/reference/selftests.md). Where a model
/// legitimately differs from what a current kernel does, the test says so and checks the model's behaviour.
/// </summary>
public class SelftestScenarioTests
{
    private static CpuProfile Profile(string vendor) => vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3;



    /// <summary>
    /// syscall_nt: set NT with POPF, make a system call, read the flags back: NT must survive (and the kernel must not
    /// take a task-switching IRET on the way). v4.4's 32-bit SYSEXIT returned the kernel's live flags instead of
    /// pt_regs->flags (fixed by "x86/entry/32: Restore FLAGS on SYSEXIT"), so there NT is lost.
    /// </summary>
    [Theory]
    [InlineData("linux-6.18", "amd", 64, "vdso", true)]
    [InlineData("linux-6.18", "intel", 64, "vdso", true)]
    [InlineData("linux-6.18", "intel", 64, "int80", true)]
    [InlineData("linux-6.18", "intel", 32, "vdso", true)]
    [InlineData("linux-6.18", "amd", 32, "int80", true)]
    [InlineData("linux-4.4", "intel", 64, "vdso", true)]
    [InlineData("linux-4.4", "intel", 32, "vdso", false)]
    [InlineData("linux-4.4", "intel", 32, "int80", true)]
    public void SyscallNt(string model, string vendor, int kbits, string via, bool ntSurvives)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, Profile(vendor), kbits);
        ulong at = m.UserText + 0x8000;
        var code = Asm.Build(32, at, a =>
        {
            a.pushfd(); a.or(__dword_ptr[esp], (int)RFlags.NT); a.popfd();
            a.mov(eax, 20);
            if (via == "vdso") a.call((uint)m.KernelVsyscall); else a.@int(0x80);
            a.pushfd(); a.pop(ebx);
        });
        var r = m.RunUserCode(code);
        Assert.Equal("ran to the end of the code", r.Outcome);
        Assert.Equal(4242UL, r.After.Ax);
        Assert.Equal(ntSurvives, (r.After.Bx & RFlags.NT) != 0);
        Assert.Null(r.Oops);
    }

    /// <summary>
    /// test_syscall_vdso: ebx..ebp come back unchanged through the vDSO and int $0x80. For r8..r15 (which the selftest
    /// reads from a 64-bit thunk) int $0x80 must preserve everything since 4.17, while fast entries "may zero r8+ and
    /// change R11" (a NOTE, not a failure): on 6.x the entry's CLEAR_REGS zeroes r12-r15 and SYSRETL's path skips them;
    /// v4.4 did not clear them, so they survive there.
    /// </summary>
    [Theory]
    [InlineData("linux-6.18", "amd", "vdso")]
    [InlineData("linux-6.18", "intel", "vdso")]
    [InlineData("linux-6.18", "amd", "int80")]
    [InlineData("linux-4.4", "amd", "int80")]
    public void TestSyscallVdsoKeepsTheCallersRegisters(string model, string vendor, string via)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, Profile(vendor));
        var r = m.InvokeSyscall(20, via: via == "vdso" ? EntryMethod.Vdso : EntryMethod.Int80);
        var b = r.Before.ByName();
        var a = r.After.ByName();
        foreach (var reg in new[] { "bx", "cx", "dx", "si", "di", "bp" }) Assert.Equal((uint)b[reg], (uint)a[reg]);
        bool fast = r.ExitInstruction == "SYSRETL";
        foreach (var reg in new[] { "r12", "r13", "r14", "r15" })
            Assert.Equal(fast && model == "linux-6.18" ? 0UL : b[reg], a[reg]);
        if (via == "int80" && model == "linux-6.18") foreach (var reg in new[] { "r8", "r9", "r10", "r11" }) Assert.Equal(b[reg], a[reg]);
        if (fast) foreach (var reg in new[] { "r8", "r9", "r10" }) Assert.Equal(0UL, a[reg]);
    }
}

/// <summary>single_step_syscall: system calls under TF with a SIGTRAP handler that counts traps.</summary>
public class SingleStepSyscallScenarioTests
{

    /// <summary>
    /// With TF set, int $0x80 and the vDSO call must each give at least one SIGTRAP, the handler must run with TF
    /// clear, getpid must still work, and TF must still be set afterwards. SYSCALL masks TF in the kernel; SYSENTER
    /// does not, and the kernel ignores the #DBs it takes in the SYSENTER entry.
    /// </summary>
    [Theory]
    [InlineData("linux-6.18", "amd", 64, "int80")]
    [InlineData("linux-6.18", "amd", 64, "vdso")]
    [InlineData("linux-6.18", "intel", 64, "vdso")]
    [InlineData("linux-6.18", "intel", 32, "vdso")]
    [InlineData("linux-4.4", "intel", 64, "vdso")]
    [InlineData("linux-4.4", "amd", 64, "vdso")]
    public void TrapsAroundTheCallAndTfSurvives(string model, string vendor, int kbits, string via)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, kbits);
        ulong handler = m.UserText + 0x100, count = m.UserDataArea + 0x200, flagsInHandler = m.UserDataArea + 0x204;
        var h = new Assembler(32);
        h.pushfd(); h.pop(eax); h.mov(__dword_ptr[(uint)flagsInHandler], eax); h.inc(__dword_ptr[(uint)count]); h.ret();
        var hw = new Core.Assembly.ByteListWriter();
        h.Assemble(hw, handler);
        m.Memory.WriteBytes(handler, hw.Bytes.ToArray());
        m.SignalState.Actions[Signal.SIGTRAP] = new SignalAction(handler, 0, 0, 0);

        ulong at = m.UserText + 0x8000;
        var a = new Assembler(32);
        a.pushfd(); a.or(__dword_ptr[esp], (int)RFlags.TF); a.popfd();
        a.mov(eax, 20);
        if (via == "vdso") a.call((uint)m.KernelVsyscall); else a.@int(0x80);
        a.mov(esi, eax);
        a.pushfd(); a.pop(ebx);
        a.pushfd(); a.and(__dword_ptr[esp], ~(int)RFlags.TF); a.popfd();
        var w = new Core.Assembly.ByteListWriter();
        a.Assemble(w, at);
        var r = m.RunUserCode(w.Bytes.ToArray(), budget: 200_000);
        Assert.True(r.Outcome == "ran to the end of the code", r.Outcome + " " + r.Oops);
        Assert.Null(r.Oops);
        Assert.Equal(4242UL, r.After.Si);                                 // getpid worked
        Assert.NotEqual(0UL, r.After.Bx & RFlags.TF);                     // TF still set after the call
        Assert.True(m.Memory.ReadUInt32(count) >= 3, $"only {m.Memory.ReadUInt32(count)} traps");
        Assert.Equal(0u, m.Memory.ReadUInt32(flagsInHandler) & (uint)RFlags.TF); // the handler runs with TF clear
        Assert.Equal(0UL, r.After.Flags & RFlags.TF);
    }
}
