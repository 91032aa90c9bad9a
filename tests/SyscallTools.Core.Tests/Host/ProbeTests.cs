using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Host;
using Xunit;

namespace SyscallTools.Core.Tests.HostTests;

/// <summary>A fact that runs only where the host can run probes of the given bitness (Linux x86-64, IA32 emulation for 32).</summary>
public sealed class HostFactAttribute : FactAttribute
{
    public HostFactAttribute(int bitness, bool trace = false)
    {
        string? why = HostCapabilities.CannotRun(bitness) ?? (trace ? HostCapabilities.CannotTrace : null);
        if (why is not null) Skip = why;
    }
}

/// <summary>Probe programs: how they are written, what they record, and that the emulator and the host run them alike.</summary>
public class ProbeTests
{
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void A_probe_is_a_static_executable_at_the_emulators_exec_layout(int bits)
    {
        var p = HostScenarios.Find($"exec-{bits}")!.Probe;
        var elf = new ElfReader(p.Elf);
        Assert.Equal(ElfType.ET_EXEC, elf.Type);
        Assert.Equal(bits == 32 ? ElfMachine.EM_386 : ElfMachine.EM_X86_64, elf.Machine);
        Assert.Equal(p.Labels["_start"], elf.Entry);
        Assert.Equal(bits == 32 ? 0x0804_8000UL : 0x40_0000UL, elf.LoadSegments[0].VirtualAddress);
        Assert.Equal(bits == 32 ? 0x0806_0000UL : 0x60_0000UL, elf.LoadSegments[1].VirtualAddress);
        Assert.Contains("finish", p.Labels.Keys);
        Assert.Equal("exec.ax", p.Slots[0]);
    }

    [Fact]
    public void Labels_resolve_in_the_second_pass_and_symbolize()
    {
        var p = HostScenarios.CallProbe("t", 64, "syscall", 39, [], stopFirst: false);
        Assert.True(p.Labels["returned"] > p.Labels["call_site"]);
        Assert.Equal("returned", p.Symbolize(p.Labels["returned"]));
        Assert.Equal("call_site+0x1", p.Symbolize(p.Labels["call_site"] + 1));
        Assert.Null(p.Symbolize(0x1234));
    }

    [Fact]
    public void Output_parses_into_named_slots()
    {
        var p = HostScenarios.Find("exec-64")!.Probe;
        var bytes = new byte[16];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), 0x1122UL);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), 0x3344UL);
        var v = p.Parse(bytes);
        Assert.Equal(0x1122UL, v["exec.ax"]);
        Assert.Equal(0x3344UL, v["exec.bx"]);
        Assert.Equal(2, v.Count);                   // a short write leaves the rest out
    }

    // ---- the emulator alone: regressions for disagreements the host oracle found ----

    private static IReadOnlyDictionary<string, string> Emulate(string scenario, CpuVendor vendor = CpuVendor.Intel)
    {
        var s = HostScenarios.Find(scenario)!;
        var run = EmulatedProbeRunner.Run(s.Probe, s.Tracer?.Invoke(), vendor);
        Assert.Null(run.Error);
        return s.Observables(run).ToDictionary(o => o.Field, o => o.Value);
    }

    [Fact]
    public void Exec_leaves_zeroed_registers_flags_0x202_and_user_selectors()
    {
        var v = Emulate("exec-32");
        Assert.Equal("0x00000000", v["exec.ax"]);
        Assert.Equal("sp0+0x0", v["exec.sp"]);
        Assert.Equal("0x00000202", v["exec.flags"]);
        Assert.Equal("0x00000023", v["exec.cs"]);
    }

    [Fact]
    public void A_32bit_SYSCALL_on_Intel_is_SIGILL_ILL_ILLOPN_at_the_instruction_with_error_code_0()
    {
        // Found by the oracle: the model said SI_KERNEL, no si_addr, and err 0xffffffff (the stub's -1).
        var v = Emulate("syscall-32-close", CpuVendor.Intel);
        Assert.Equal("SIGILL", v["sig.signo"]);
        Assert.Equal("2", v["sig.code"]);
        Assert.Equal("probe:syscall_insn", v["sig.addr"]);
        Assert.Equal("6", v["sig.trapno"]);
        Assert.Equal("0x00000000", v["sig.err"]);
        Assert.Equal("probe:syscall_insn", v["sig.ip"]);
    }

    [Fact]
    public void A_raw_SYSENTER_on_AMD_is_SIGILL_at_the_instruction()
    {
        var v = Emulate("sysenter-32-close", CpuVendor.Amd);
        Assert.Equal("SIGILL", v["sig.signo"]);
        Assert.Equal("2", v["sig.code"]);
        Assert.Equal("probe:sysenter_insn", v["sig.ip"]);
        Assert.Equal("probe:sysenter_insn", v["sig.addr"]);
    }

    [Fact]
    public void A_64bit_siginfo_has_si_addr_at_offset_16()
    {
        // Found by the oracle: the model wrote si_addr at 12 (the i386 offset) in a 64-bit siginfo_t.
        var v = Emulate("pagefault-64");
        Assert.Equal("1", v["sig.code"]);
        Assert.Equal("0x1008", v["sig.addr"]);
        Assert.Equal("14", v["sig.trapno"]);
        Assert.Equal("0x4", v["sig.err"]);
    }

    [Fact]
    public void Single_stepping_over_SYSCALL_stops_at_the_return_address()
    {
        // Found by the oracle: report_single_step() was missing, so the first stop after the call was one instruction late.
        var v = Emulate("singlestep-syscall-64");
        Assert.Equal("probe:step_begin+0x5", v["step0.ip"]);
        Assert.Equal("probe:step_after", v["step1.ip"]);
        Assert.Equal("probe:step_after+0x1", v["step2.ip"]);
    }

    [Fact]
    public void A_tracer_set_non_canonical_RIP_is_the_tasks_SIGSEGV_with_the_handler_seeing_that_RIP()
    {
        // Found by the oracle: with a SIGSEGV handler the model reported an oops (fixup_bad_iret's frame was not built).
        var v = Emulate("ptrace-noncanonical-64");
        Assert.Equal("signal handler ran", v["phase"]);
        Assert.Equal("SIGSEGV", v["sig.signo"]);
        Assert.Equal("128", v["sig.code"]);                 // SI_KERNEL
        Assert.Equal("13", v["sig.trapno"]);
        Assert.Equal("0x800000000000", v["sig.ip"]);
        Assert.Equal("probe:returned", v["sig.cx"]);        // the user's registers, not the kernel's
    }

    [Fact]
    public void A_pending_signal_ends_an_empty_pipe_read_with_ERESTARTSYS_and_it_restarts()
    {
        // Found by the oracle: the model's empty pipe answered EAGAIN even with a signal pending.
        var v = Emulate("restart-read-64");
        Assert.Equal("-512 (ERESTARTSYS)", v["stop02.ax"]);
        Assert.Equal("SIGWINCH", v["stop03.signal"]);
        Assert.Equal("0", v["stop04.nr"]);                  // the same read again (ignored signal: restarted)
        Assert.Equal("1", v["return"]);                     // the SA_RESTART handler wrote one byte
        Assert.Equal("1", v["count.usr1"]);
    }

    [Fact]
    public void An_interrupted_nanosleep_without_a_handler_finishes_through_restart_syscall()
    {
        // Found by the oracle: nanosleep set no restart block, so restart_syscall returned -EINTR instead of 0.
        var v = Emulate("restart-nanosleep-64");
        Assert.Equal("-516 (ERESTART_RESTARTBLOCK)", v["stop02.ax"]);
        Assert.Equal("219", v["stop04.nr"]);
        Assert.Equal("0x0", v["stop05.ax"]);
        Assert.Equal("0", v["return"]);
    }

    [Fact]
    public void A_compat_rt_sigreturn_returns_ax_zero_extended_to_a_64bit_tracer()
    {
        // Found by the oracle: the model sign-extended the restored eax (-4 became 0xfffffffffffffffc).
        var v = Emulate("restart-read-int80-32-eintr");
        Assert.Equal("173", v["stop06.nr"]);
        Assert.Equal("0xfffffffc", v["stop07.ax"]);
        Assert.Equal("EINTR", v["errno"]);
    }

    [Fact]
    public void Exit_group_has_an_entry_stop_and_no_exit_stop()
    {
        // Found by the oracle: the model reported a syscall-exit stop for exit_group.
        var v = Emulate("restart-read-64-eintr");
        Assert.Equal("231", v["stop10.nr"]);
        Assert.False(v.ContainsKey("stop11.kind"));
    }

    [Fact]
    public void With_TF_set_by_the_program_the_SYSCALL_itself_traps_after_the_next_instruction_not_at_its_return()
    {
        // As the host shows (Compare-HostKernel tf-syscall-64): no SIGTRAP at the return address of a call the
        // program stepped itself (that stop is only for a ptrace single-stepper); the next one follows the first
        // instruction after it.
        var v = Emulate("tf-syscall-64");
        Assert.Equal("probe:tf_on+0x1", v["trap.00"]);
        Assert.Equal("probe:call_site", v["trap.01"]);
        Assert.Equal("probe:returned+0x8", v["trap.02"]);
        Assert.Equal("EBADF", v["errno"]);
    }

    // ---- on the host ----

    [HostFact(64)]
    public void A_64bit_probe_runs_on_the_host_and_writes_every_slot()
    {
        var p = HostScenarios.Find("exec-64")!.Probe;
        var run = HostProbeRunner.Run(p, null, TimeSpan.FromSeconds(10));
        Assert.Null(run.Error);
        Assert.Equal(0, run.ExitStatus);
        Assert.Equal(8 * p.Slots.Count, run.Stdout.Length);
        Assert.Equal(0x202UL, p.Parse(run.Stdout)["exec.flags"]);
    }

    [HostFact(32)]
    public void A_32bit_probe_runs_on_the_host_and_finds_its_vdso()
    {
        var p = HostScenarios.Find("vdso-32-auxv")!.Probe;
        var run = HostProbeRunner.Run(p, null, TimeSpan.FromSeconds(10));
        Assert.Equal(0, run.ExitStatus);
        var v = p.Parse(run.Stdout);
        Assert.NotEqual(0UL, v["aux.vdso"]);
        Assert.InRange(v["aux.sysinfo"] - v["aux.vdso"], 1UL, 0x2000UL);
    }

    [HostFact(64)]
    public void A_probe_that_hangs_is_killed_after_the_timeout()
    {
        var b = new ProbeBuilder("hang-64", 64);
        b.Asm("spin:").Asm("jmp spin");
        var run = HostProbeRunner.Run(b.Build(), null, TimeSpan.FromMilliseconds(300));
        Assert.True(run.TimedOut);
    }

    [HostFact(64, trace: true)]
    public void A_traced_probe_that_hangs_is_killed_and_reaped_after_the_timeout()
    {
        var b = new ProbeBuilder("hang-traced-64", 64);
        b.StopForTracer();
        b.Asm("spin:").Asm("jmp spin");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = HostProbeRunner.Run(b.Build(), new DelegateTracer((_, _) => TraceResume.Syscall), TimeSpan.FromMilliseconds(300));
        Assert.True(run.TimedOut);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [HostFact(32)]
    public void The_host_vdso_dump_is_an_ELF32_image_the_emulator_can_map()
    {
        var (image, why) = HostComparison.DumpHostVdso();
        Assert.Null(why);
        var elf = new ElfReader(image!);
        Assert.Equal(ElfMachine.EM_386, elf.Machine);
        Assert.NotNull(elf.LookupDynamicSymbol("__kernel_vsyscall"));
    }

    [HostFact(64, trace: true)]
    public void A_traced_probe_shows_its_syscall_stops_to_a_tracer_on_one_thread()
    {
        var s = HostScenarios.Find("ptrace-syscall-64")!;
        var rows = HostComparison.Compare(s);
        Assert.All(rows, r => Assert.True(r.Agree, $"{r.Field}: host {r.Host}, emulated {r.Emulated}"));
        Assert.Contains(rows, r => r.Field == "entry.ip-2.insn" && r.Host == "0f 05");
    }
}
