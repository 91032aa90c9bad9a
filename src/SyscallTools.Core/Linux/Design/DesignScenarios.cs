using Iced.Intel;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Ptrace;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Linux.Design;

/// <summary>
/// The situations the 2015 thread argues about, as runnable scenarios for a 32-bit task: each one a fast system call
/// with one reason (or none) for the exit to need IRET. Run on several models, their observables say which proposal
/// stays correct where, and their traces say what each costs.
/// </summary>
public static class DesignScenarios
{
    /// <summary>The scenarios, with what each one sets up.</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["getpid"] = "getpid through __kernel_vsyscall: nothing needs IRET",
        ["user-tf"] = "the task sets TF itself, then makes the vDSO's fast entry by hand (the vDSO frame pushed, SYSCALL on AMD, SYSENTER on Intel)",
        ["signal-handler"] = "kill(getpid(), SIGUSR1) through the vDSO with a handler installed: the frame rewrites ip and sp",
        ["kill-self"] = "kill(getpid(), SIGTERM) through the vDSO with the default action, then one more instruction and an int $0x80",
        ["tracer-edit"] = "getpid through the vDSO under a tracer that moves ip by one at the syscall-exit stop",
    };

    public static DesignScenarioOutcome Run(string scenario, KernelModel model, CpuProfile profile, int kernelBits = 64)
    {
        if (!All.ContainsKey(scenario))
            throw new ArgumentException($"There is no scenario '{scenario}'. Use one of: {string.Join(", ", All.Keys)}.", nameof(scenario));
        var m = new LinuxMachine(model, profile, kernelBits, 32);
        if (m.KernelVsyscall == 0) throw new InvalidOperationException("The scenarios need a vDSO.");
        var obs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        ulong counter = m.UserDataArea + 0x200;
        byte[] code;
        switch (scenario.ToLowerInvariant())
        {
            case "user-tf":
                code = UserTfCode(m);
                break;
            case "signal-handler":
            {
                ulong handler = m.UserText + 0x100;
                m.Memory.WriteBytes(handler, Build(handler, a => { a.inc(__dword_ptr[(uint)counter]); a.ret(); }));
                m.SignalState.Actions[Signal.SIGUSR1] = new SignalAction(handler, 0, 0, 0);
                code = Build(m.UserCodeAddress, a =>
                {
                    a.mov(eax, 37); a.mov(ebx, (uint)m.Task.Pid); a.mov(ecx, Signal.SIGUSR1);
                    a.call((uint)m.KernelVsyscall);
                });
                break;
            }
            case "kill-self":
                code = Build(m.UserCodeAddress, a =>
                {
                    a.mov(eax, 37); a.mov(ebx, (uint)m.Task.Pid); a.mov(ecx, Signal.SIGTERM);
                    a.call((uint)m.KernelVsyscall);
                    a.mov(esi, 0x1234);                     // only runs when the signal was not delivered on the way out
                    a.mov(eax, 20); a.@int(0x80);
                });
                break;
            case "tracer-edit":
                m.Tracer.OnStop = s => { if (s.Kind == PtraceStopKind.SyscallExit) s.Poke("ip", s.Peek("ip") + 1); };
                code = Build(m.UserCodeAddress, a => { a.mov(eax, 20); a.call((uint)m.KernelVsyscall); a.nop(); a.nop(); });
                break;
            default:
                code = Build(m.UserCodeAddress, a => { a.mov(eax, 20); a.call((uint)m.KernelVsyscall); });
                break;
        }
        var r = m.RunUserCode(code, budget: 100_000, trace: true);
        var call = r.KernelEntries.FirstOrDefault(e => e.Exit is not null && e.Entry is EntryKind.SyscallCompat or EntryKind.Sysenter);
        obs["outcome"] = r.TaskExited ? $"killed by {r.Signal}" : r.Oops is not null ? "oops" : r.Outcome;
        obs["ip"] = Relative(m, r.After.Ip);
        obs["flags.TF"] = (r.After.Flags & RFlags.TF) != 0 ? "set" : "clear";
        foreach (var (name, v) in new[] { ("ax", r.After.Ax), ("bx", r.After.Bx), ("cx", r.After.Cx), ("dx", r.After.Dx), ("si", r.After.Si), ("di", r.After.Di), ("bp", r.After.Bp), ("sp", r.After.Sp) })
            obs[name] = $"0x{(uint)v:x}";
        if (scenario.Equals("signal-handler", StringComparison.OrdinalIgnoreCase))
            obs["handler runs"] = m.Memory.ReadUInt32(counter).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new DesignScenarioOutcome
        {
            Scenario = scenario.ToLowerInvariant(),
            Kernel = model.Name,
            Vendor = profile.Vendor.ToString(),
            KernelBits = kernelBits,
            ExitInstruction = call?.Exit?.Instruction,
            DecidedBy = call?.Exit?.Checks.FirstOrDefault(c => !c.Passed)?.Name,
            Observables = obs,
            Trace = r.Trace ?? [],
            KernelEntries = r.KernelEntries,
        };
    }

    /// <summary>Addresses the task sees, named relative to the landing pad and the code, so that models compare.</summary>
    private static string Relative(LinuxMachine m, ulong ip)
    {
        long d = (long)(ip - m.LandingPad);
        if (Math.Abs(d) < 0x40) return d == 0 ? "int80_landing_pad" : $"int80_landing_pad{d:+0;-0}";
        long c = (long)(ip - m.UserCodeAddress);
        return c >= 0 && c < 0x1000 ? $"code+{c}" : $"0x{ip:x}";
    }

    private static byte[] UserTfCode(LinuxMachine m)
    {
        bool syscall = m.KernelBits == 64 && m.Cpu.Profile.Vendor == CpuVendor.Amd;
        byte[] Code(uint after) => Build(m.UserCodeAddress, a =>
        {
            // __kernel_vsyscall's frame (return address, ecx, edx, ebp), so that the landing pad returns to `after`.
            a.push(after); a.push(ecx); a.push(edx); a.push(ebp);
            if (!syscall) a.mov(ebp, esp);                  // SYSENTER: the kernel finds the user stack in EBP
            a.mov(eax, 20);
            a.pushfd(); a.or(__dword_ptr[esp], (int)RFlags.TF); a.popfd();
            if (syscall) a.syscall(); else a.sysenter();
        });
        int length = Code(0x7FFF_FFFF).Length;            // a placeholder that needs the same imm32 encoding
        return [.. Code((uint)(m.UserCodeAddress + (ulong)length)), 0x90, 0x90];
    }

    private static byte[] Build(ulong ip, Action<Assembler> body) => Assembly.ByteListWriter.Assemble(32, ip, body);
}
