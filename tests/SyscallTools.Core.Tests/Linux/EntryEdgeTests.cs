using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Memory;
using SyscallTools.Core.Tests.Support;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>The edges of the entry code: a bad user stack, a missing vDSO, a non-canonical return address, the model list.</summary>
public class EntryEdgeTests
{
    private static CpuProfile Profile(string vendor) => vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3;



    /// <summary>
    /// syscall_arg_fault: every GPR and ESP set to -1, then a raw SYSENTER or SYSCALL. The kernel cannot fetch arg 6
    /// from (u32)regs->sp, does not run the call, sets AX = -EFAULT and returns with IRET; the landing pad's pops
    /// then fault on the broken stack and the task gets SIGSEGV.
    /// </summary>
    [Theory]
    [InlineData("linux-6.18", "intel", 64, "sysenter")]
    [InlineData("linux-6.18", "amd", 64, "syscall")]
    [InlineData("linux-4.4", "intel", 64, "sysenter")]
    [InlineData("linux-4.4", "amd", 64, "syscall")]
    [InlineData("linux-6.18", "intel", 32, "sysenter")]
    [InlineData("linux-6.18", "amd", 32, "sysenter")]
    [InlineData("linux-4.4", "intel", 32, "sysenter")]
    [InlineData("linux-4.2", "intel", 64, "sysenter")]
    [InlineData("linux-4.2", "intel", 32, "sysenter")]
    public void BadUserStackGivesEfaultThroughIret(string model, string vendor, int kbits, string insn)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, Profile(vendor), kbits);
        var code = Asm.Build(32, 0, a => { if (insn == "sysenter") a.sysenter(); else a.syscall(); a.ud2(); });
        var r = m.RunUserCode(code, cpu =>
        {
            for (int i = 0; i < 8; i++) cpu[(Gpr)i] = 0xFFFF_FFFF;
            cpu[Gpr.Rax] = 20; // getpid: it must not run
        }, trace: true);
        Assert.Equal("SIGSEGV", r.Signal);
        Assert.True(r.TaskExited);
        Assert.Equal(unchecked((uint)-Errno.EFAULT), (uint)r.After.Ax);
        var call = r.KernelEntries[0];
        Assert.Equal("IRET", call.Exit!.Instruction);
        Assert.True(call.ArgFetchFailed);
        Assert.Equal(Vector.PF, r.Fault!.Vector); // the landing pad's pop on the broken stack
        Assert.DoesNotContain(r.Trace!, e => e.Text.Contains("getpid", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(EntryMethod.Sysenter, "intel")]
    [InlineData(EntryMethod.Syscall, "amd")]
    public void RawFastEntryWithoutAVdsoFaultsOnTheMissingLandingPad(EntryMethod via, string vendor)
    {
        // vdso32=0: the kernel still returns to "vdso base + landing pad offset" — base 0 — and the fetch faults.
        var m = new LinuxMachine(new Linux618(), Profile(vendor), vdso: false);
        var r = m.InvokeSyscall(20, via: via);
        Assert.False(r.Completed);
        Assert.Equal("SIGSEGV", r.Signal);
        Assert.Equal(Vector.PF, r.Fault!.Vector);
        Assert.Equal((ulong)m.Vdso!.LandingPad!, r.Fault.Cr2);
        Assert.Equal("SYSRETL", r.ExitInstruction); // the kernel thought all was well: ip == its landing pad
    }

    /// <summary>
    /// sysret_rip: a 64-bit SYSCALL as the last two bytes below the canonical boundary makes RCX = 0x800000000000.
    /// linux-6.18 refuses SYSRETQ (ip ≥ TASK_SIZE_MAX) and IRET's fault becomes the user's SIGSEGV; the unsafe variant
    /// takes SYSRETQ, which on Intel #GPs in ring 0 (an oops) and on AMD faults in user mode (SIGSEGV).
    /// </summary>
    [Theory]
    [InlineData("linux-6.18", "intel", "IRET", "SIGSEGV", false)]
    [InlineData("linux-6.18", "amd", "IRET", "SIGSEGV", false)]
    [InlineData("linux-6.18-unsafe-sysret", "intel", "SYSRETQ", null, true)]
    [InlineData("linux-6.18-unsafe-sysret", "amd", "SYSRETQ", "SIGSEGV", false)]
    public void SyscallAtTheCanonicalBoundary(string model, string vendor, string decision, string? signal, bool oops)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, Profile(vendor), 64, 64);
        ulong page = 0x7FFF_FFFF_F000;
        m.Memory.Map(page, 0x1000, PageFlags.UserCode);
        m.Memory.WriteBytes(0x7FFF_FFFF_FFFE, [0x0F, 0x05]); // syscall, ending at 0x800000000000
        var r = m.RunUserCode(Asm.Build(64, 0, a => a.jmp(0x7FFF_FFFF_FFFEUL)), cpu => cpu[Gpr.Rax] = 39);
        Assert.Equal(decision, r.KernelEntries[0].Exit!.Instruction);
        Assert.Equal(signal, r.Signal);
        Assert.Equal(oops, r.Oops is not null);
        if (oops) Assert.Contains("#GP in kernel mode at syscall_return_via_sysret", r.Oops);
    }

    [Fact]
    public void ModelsAreDiscoverableWithDescriptions()
    {
        var names = KernelModel.All.Select(m => m.Name).ToList();
        Assert.Contains("linux-4.2", names);
        Assert.Contains("linux-4.4", names);
        Assert.Contains("linux-6.18", names);
        Assert.All(KernelModel.All, m => Assert.False(string.IsNullOrWhiteSpace(m.Description)));
        Assert.All(KernelModel.All, m => Assert.False(string.IsNullOrWhiteSpace(m.Follows)));
        Assert.Null(KernelModel.Find("linux-9.99"));
    }

    [Fact]
    public void ExecLeavesRegistersAsLinuxDoes()
    {
        // check_initial_reg_state: every GPR 0 but SP, EFLAGS 0x202, and AT_SYSINFO on the stack for 32-bit tasks.
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        var regs = RegisterSnapshot.Of(m.Cpu).ByName();
        foreach (var r in new[] { "ax", "bx", "cx", "dx", "si", "di", "bp", "r8", "r15" }) Assert.Equal(0UL, regs[r]);
        Assert.Equal(0x202UL, regs["flags"]);
        Assert.Equal(0x23UL, regs["cs"]);
        ulong sp = regs["sp"];
        var words = Enumerable.Range(0, 12).Select(i => (ulong)m.Memory.ReadUInt32(sp + (ulong)(4 * i))).ToList();
        int at = words.IndexOf(LinuxMachine.AtSysinfo);
        Assert.True(at > 0 && at % 2 == 0);
        Assert.Equal(m.KernelVsyscall, words[at + 1]);
    }

    [Fact]
    public void OutOfRangeAndUpperBitsFollowTheKernelRules()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, 64);
        Assert.Equal(-Errno.ENOSYS, m.InvokeSyscall(9999).Return);
        Assert.Equal("ENOSYS", m.InvokeSyscall(-2).Errno);
        // do_syscall_64 takes int nr: RAX[63:32] is ignored.
        Assert.Equal(4242, m.InvokeSyscall(unchecked((long)0xDEAD_BEEF_0000_0027UL)).Return);
        var m32 = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        Assert.Equal(-Errno.ENOSYS, m32.InvokeSyscall(463).Return);
        Assert.Equal(-Errno.EPERM, m32.InvokeSyscall(110, [3]).Return); // raising IOPL needs CAP_SYS_RAWIO
        Assert.Equal(0, m32.InvokeSyscall(110, [0]).Return);             // keeping it does not
        Assert.Equal(-Errno.EINVAL, m32.InvokeSyscall(110, [4]).Return);
    }

    [Fact]
    public void WriteGoesToTheCapturedStdout()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.IntelSkylake);
        m.Memory.WriteBytes(m.UserDataArea, "hello\n"u8);
        var r = m.InvokeSyscall(4, [1, m.UserDataArea, 6]);
        Assert.Equal(6, r.Return);
        Assert.Equal("hello\n", m.Task.Stdout);
        Assert.Equal(-Errno.EFAULT, m.InvokeSyscall(4, [1, 0x10, 6]).Return);
        Assert.Equal(-Errno.EBADF, m.InvokeSyscall(4, [7, m.UserDataArea, 6]).Return);
    }
}
