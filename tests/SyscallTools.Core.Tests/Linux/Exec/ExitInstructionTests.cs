using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Exec;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests.Exec;

/// <summary>
/// How a real program's system calls leave the kernel, asserted from the kernel's rules rather than from a previous
/// run: int $0x80 always returns by IRET (entry_INT80_compat / do_int80_emulation, and entry_INT80_32); after the 2015
/// rewrite a fast 32-bit entry on a 64-bit kernel returns by SYSRETL to the vDSO's int80_landing_pad whichever of
/// SYSCALL (AMD) or SYSENTER (Intel) entered — do_fast_syscall_32 returns true when regs->ip is the landing pad and
/// nothing (a signal frame) changed the registers; a 32-bit kernel leaves a SYSENTER entry by SYSEXIT; a 64-bit
/// SYSCALL returns by SYSRETQ when RCX = RIP and R11 = RFLAGS; and a call that sets up a signal handler on the way out
/// has a new IP and returns by IRET.
/// </summary>
public class ExitInstructionTests
{
    private static ProcessRunResult Run(string fixture, string variant, CpuProfile profile, string model = "linux-6.18", int kernelBits = 64)
    {
        var (_, r) = FixtureRun.Emulate(Fixtures.PathOf(fixture, variant)!, FixtureRun.BitsOf(variant), profile, model, kernelBits);
        Assert.True(r.Exited && r.Signal is null, r.Outcome);
        return r;
    }

    [FixtureFact("32")]
    public void On_AMD_and_linux_6_18_the_vdso_calls_of_a_32_bit_program_leave_by_SYSRETL_and_int80_by_IRET()
    {
        var r = Run("hello", "32", CpuProfile.AmdZen3);
        var vdso = r.Syscalls.Where(s => s.ViaVdso && s.ExitInstruction is not null).ToList();
        var int80 = r.Syscalls.Where(s => s.EntryInstruction == "INT 0x80").ToList();
        Assert.NotEmpty(vdso);
        Assert.NotEmpty(int80);                              // glibc's brk and set_thread_area run before the TCB holds AT_SYSINFO
        Assert.All(vdso, s => Assert.Equal("SYSCALL", s.EntryInstruction));   // X86_FEATURE_SYSCALL32 patches the vDSO
        Assert.All(vdso, s => Assert.Equal("SYSRETL", s.ExitInstruction));
        Assert.All(vdso, s => Assert.Equal("[vdso] int80_landing_pad", s.ExitSymbol));
        Assert.All(int80, s => Assert.Equal("IRET", s.ExitInstruction));
        Assert.Contains(r.Syscalls, s => s.Name == "exit_group" && s.ExitInstruction is null);
    }

    [FixtureFact("32")]
    public void On_Intel_a_SYSENTER_entry_on_a_64_bit_kernel_also_leaves_by_SYSRETL()
    {
        var r = Run("hello", "32", CpuProfile.IntelSkylake);
        var vdso = r.Syscalls.Where(s => s.ViaVdso && s.ExitInstruction is not null).ToList();
        Assert.NotEmpty(vdso);
        Assert.All(vdso, s => Assert.Equal("SYSENTER", s.EntryInstruction));
        Assert.All(vdso, s => Assert.Equal("SYSRETL", s.ExitInstruction));
    }

    [FixtureFact("32")]
    public void On_a_32_bit_kernel_the_vdso_calls_leave_by_SYSEXIT()
    {
        var r = Run("hello", "32", CpuProfile.IntelSkylake, kernelBits: 32);
        var vdso = r.Syscalls.Where(s => s.ViaVdso && s.ExitInstruction is not null).ToList();
        Assert.NotEmpty(vdso);
        Assert.All(vdso, s => Assert.Equal("SYSENTER", s.EntryInstruction));
        Assert.All(vdso, s => Assert.Equal("SYSEXIT", s.ExitInstruction));
    }

    [FixtureFact("64")]
    public void The_calls_of_a_64_bit_program_leave_by_SYSRETQ()
    {
        var r = Run("hello", "64", CpuProfile.AmdZen3);
        var returned = r.Syscalls.Where(s => s.ExitInstruction is not null).ToList();
        Assert.NotEmpty(returned);
        Assert.All(returned, s => Assert.Equal("SYSCALL", s.EntryInstruction));
        Assert.All(returned, s => Assert.Equal("SYSRETQ", s.ExitInstruction));
        Assert.Contains(r.Syscalls, s => s.Name == "arch_prctl" && s.Return == 0);   // ARCH_SET_FS for the TCB
    }

    [FixtureFact("32")]
    public void A_read_interrupted_by_a_handled_alarm_leaves_by_IRET_and_sigreturn_gives_EINTR()
    {
        var r = Run("signal_read", "32", CpuProfile.AmdZen3);
        int i = r.Syscalls.ToList().FindIndex(s => s.Name == "read");
        var read = r.Syscalls[i];
        // pipe_read sleeps; the alarm fires; -ERESTARTSYS with a handler that lacks SA_RESTART becomes -EINTR, which
        // user space sees after the handler's sigreturn (strace: "read(...) = ? ERESTARTSYS ... sigreturn() = -1 EINTR").
        Assert.Equal("ERESTARTSYS", read.Errno);
        Assert.Equal("SIGALRM", read.Signal);
        Assert.Equal("IRET", read.ExitInstruction);
        var sigreturn = r.Syscalls[i + 1];
        Assert.Equal("sigreturn", sigreturn.Name);            // glibc's i386 restorer for a non-SA_SIGINFO handler
        Assert.Equal("INT 0x80", sigreturn.EntryInstruction);  // __kernel_sigreturn: int $0x80
        Assert.Equal("IRET", sigreturn.ExitInstruction);
        Assert.Equal("EINTR", sigreturn.Errno);
        Assert.Equal("alarm", r.Syscalls[i - 1].Name);
        Assert.Equal(0, r.Syscalls[i - 1].Return);           // no previous alarm
    }

    [FixtureFact("32")]
    public void The_not_modelled_list_names_rseq_which_glibc_tolerates()
    {
        var r = Run("hello", "32", CpuProfile.AmdZen3);
        Assert.Equal(["rseq"], r.NotModelledSyscalls);
        Assert.Contains(r.Syscalls, s => s.Name == "rseq" && s.Errno == "ENOSYS" && !s.Modelled);
    }

    [FixtureFact("32")]
    public void Without_a_vdso_there_is_no_AT_SYSINFO_and_glibc_makes_every_call_by_int80()
    {
        var m = new Core.Linux.LinuxMachine(new Core.Linux.Models.Linux618(), CpuProfile.AmdZen3, 64, 32, vdso: false);
        var layout = m.Exec(new ExecRequest { Image = File.ReadAllBytes(Fixtures.PathOf("hello", "32")!), Path = "/hello", Argv = ["/hello"] });
        Assert.DoesNotContain(layout.Stack.Auxv, a => a.Key is AuxVector.AT_SYSINFO or AuxVector.AT_SYSINFO_EHDR);
        var r = m.RunProcess();
        Assert.Equal(0, r.ExitStatus);
        Assert.StartsWith("hello, world\n", r.Stdout);
        Assert.All(r.Syscalls, s => Assert.Equal("INT 0x80", s.EntryInstruction));
        Assert.All(r.Syscalls.Where(s => s.ExitInstruction is not null), s => Assert.Equal("IRET", s.ExitInstruction));
    }
}
