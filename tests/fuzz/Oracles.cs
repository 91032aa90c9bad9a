using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Boot;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Ptrace;

namespace SyscallTools.Fuzz;

/// <summary>A machine of a random model, vendor and bitness, with what the oracles need to remember about its boot.</summary>
public sealed class FuzzMachine
{
    public required LinuxMachine M { get; init; }
    public required string Description { get; init; }
    /// <summary>IA32_SYSENTER_ESP as boot programmed it: no run may change it.</summary>
    public ulong SysenterEsp { get; init; }

    public static FuzzMachine New(FuzzContext ctx, bool? task64 = null, bool? vdso = null, bool modernOnly = false)
    {
        var r = ctx.Rng;
        var models = modernOnly ? KernelModel.All.Where(m => m.Generation != EntryGeneration.PreRewrite).ToList() : KernelModel.All;
        var model = models[r.Next(models.Count)];
        var profile = CpuProfile.All[r.Next(CpuProfile.All.Count)];
        int kbits = task64 == true ? 64 : r.Next(3) == 0 ? 32 : 64;
        int tbits = task64 ?? (kbits == 64 && r.Next(2) == 0) ? 64 : 32;
        bool withVdso = vdso ?? r.Next(8) != 0;
        var m = new LinuxMachine(model, profile, kbits, tbits, withVdso);
        string d = $"{model.Name} {profile.Vendor} {kbits}-bit kernel {tbits}-bit task{(withVdso ? "" : " no vDSO")}";
        ctx.Describe("machine: " + d);
        return new FuzzMachine { M = m, Description = d, SysenterEsp = m.Cpu.ReadMsr(Msr.SysenterEsp) ?? 0 };
    }

    /// <summary>
    /// The one oops a model is allowed: linux-6.18-unsafe-sysret on Intel, where SYSRET with a non-canonical RCX #GPs in
    /// ring 0. The #GP is delivered at CPL 0 on the user's RSP (SYSRET has already loaded it), so when that stack cannot
    /// take the frame (non-canonical, unmapped, read-only) the delivery faults again and it becomes a #DF — as on the
    /// hardware (CVE-2012-0217).
    /// </summary>
    public bool OopsExpected(string oops) =>
        M.Model is Linux618UnsafeSysret && M.Cpu.Profile.Vendor == CpuVendor.Intel
        && (oops.Contains("#GP in kernel mode at syscall_return_via_sysret", StringComparison.Ordinal)
            || oops.Contains("#DF in kernel mode at syscall_return_via_sysret", StringComparison.Ordinal));

    /// <summary>No oops, except the expected one; counts what was seen.</summary>
    public void CheckOops(FuzzContext ctx, string? oops)
    {
        if (oops is null) return;
        if (OopsExpected(oops)) { ctx.Saw("oops (expected: Intel SYSRET #GP, unsafe model)"); return; }
        ctx.Saw("oops (unexpected)");
        FuzzContext.Violation($"kernel oops on {Description}: {oops}");
    }

    /// <summary>CPL and the mode agree with CS and the control registers, as the hardware derives them.</summary>
    public void CheckCpu(string when)
    {
        var c = M.Cpu;
        var cs = c.GetSegment(SegReg.CS);
        FuzzContext.Require(c.Cpl == (cs.Selector & 3), $"{when}: CPL {c.Cpl} but CS selector 0x{cs.Selector:x} has RPL {cs.Selector & 3}");
        if (cs.IsCode && !cs.IsConforming)
            FuzzContext.Require(cs.Dpl == c.Cpl, $"{when}: CPL {c.Cpl} but the CS cache has DPL {cs.Dpl} ({cs.Describe()})");
        CpuMode derived = (c.Cr0 & ControlBits.Cr0Pe) == 0 ? CpuMode.Real
            : (c.Efer & Msr.EferLma) != 0 ? (cs.L ? CpuMode.Long64 : cs.D ? CpuMode.Compat32 : CpuMode.Compat16)
            : cs.D ? CpuMode.Legacy32 : CpuMode.Legacy16;
        FuzzContext.Require(c.Mode == derived, $"{when}: mode {c.Mode} but CR0/EFER/CS ({cs.Describe()}) give {derived}");
    }

    /// <summary>
    /// After a system call has returned to user mode: ring 3 in the task's own code segment, and nothing left that would
    /// make the next entry start anywhere but the top of the task's kernel stack (TSS.sp0, the per-CPU top of stack and
    /// SYSENTER_ESP as boot set them), and pt_regs still ending exactly at that top.
    /// </summary>
    public void CheckAfterSyscall(string when)
    {
        CheckCpu(when);
        var c = M.Cpu;
        var l = M.Layout;
        FuzzContext.Require(c.Cpl == 3, $"{when}: back in user mode but CPL is {c.Cpl}");
        ulong sp0 = M.KernelBits == 64 ? M.Memory.ReadUInt64(l.Tss + 4) : M.Memory.ReadUInt32(l.Tss + 4);
        FuzzContext.Require(sp0 == l.StackTop, $"{when}: TSS.sp0 is 0x{sp0:x}, not the top of the kernel stack 0x{l.StackTop:x}");
        ulong top = M.Memory.ReadUInt64(l.PerCpu + KernelLayout.PerCpuTopOfStack);
        FuzzContext.Require(top == l.StackTop, $"{when}: cpu_current_top_of_stack is 0x{top:x}, not 0x{l.StackTop:x}");
        ulong esp = c.ReadMsr(Msr.SysenterEsp) ?? 0;
        FuzzContext.Require(esp == SysenterEsp, $"{when}: IA32_SYSENTER_ESP changed from 0x{SysenterEsp:x} to 0x{esp:x}");
        int size = M.KernelBits == 64 ? PtRegs.Size64 : PtRegs.Size32;
        FuzzContext.Require(M.PtRegsAddress + (ulong)size == l.StackTop, $"{when}: pt_regs at 0x{M.PtRegsAddress:x} does not end at the stack top");
    }

    /// <summary>
    /// At any tracer stop: the C function was handed the pt_regs at the top of the kernel stack (so the entry stub's pushes
    /// were balanced), and the kernel is running on that stack below it.
    /// </summary>
    public void CheckStop(PtraceStop stop)
    {
        FuzzContext.Require(stop.Regs.Address == M.PtRegsAddress,
            $"{stop.Kind} stop: the C function got pt_regs at 0x{stop.Regs.Address:x}, not at the top of the kernel stack (0x{M.PtRegsAddress:x})");
        ulong sp = M.Cpu[Gpr.Rsp];
        if (M.KernelBits == 32) sp = (uint)sp;
        // A known shortcut of the model: after an IRET fault on the espfix64 stack, do_double_fault() rewrites its frame to
        // enter the #GP handler on the task's stack; the model runs that #GP's C handling (and any stop in it) straight
        // from the #DF handler, on the #DF IST stack. pt_regs (checked above) and what the task sees are the kernel's.
        bool espfixDoubleFault = M.Current.CFunctions.Any(f => f.StartsWith("do_double_fault", StringComparison.Ordinal))
            && sp < M.Layout.DoubleFaultStackTop && sp >= M.Layout.DoubleFaultStackTop - 0x1000;
        FuzzContext.Require(espfixDoubleFault || sp >= M.Layout.StackBase && sp < M.PtRegsAddress,
            $"{stop.Kind} stop: the kernel's stack pointer 0x{sp:x} is not on the task's kernel stack below pt_regs [0x{M.Layout.StackBase:x}, 0x{M.PtRegsAddress:x})");
        FuzzContext.Require(M.Cpu.Cpl == 0, $"{stop.Kind} stop: the tracer stop runs at CPL {M.Cpu.Cpl}");
        FuzzContext.Require(stop.Regs.UserMode, $"{stop.Kind} stop: pt_regs->cs 0x{stop.Regs.Cs:x} is not a user selector");
    }

    /// <summary>The budget is an upper bound on what a run executed.</summary>
    public static void CheckBudget(long user, long kernel, long budget, string outcome)
    {
        FuzzContext.Require(user + kernel <= budget, $"ran {user} user + {kernel} kernel instructions on a budget of {budget} ({outcome})");
        if (outcome.StartsWith("Cancelled", StringComparison.Ordinal))
            throw new FuzzViolation("hang", $"hang: the run was still going when the hang limit cancelled it ({outcome})");
    }

    /// <summary>A result, in a line, for the determinism comparison.</summary>
    public static string Fingerprint(SyscallResult r) =>
        $"{r.Name} {r.Return} {r.Errno} {r.EntryInstruction} {r.ExitInstruction} {r.ExitPath?.Reason} {r.Signal} {r.Fault} {r.Oops} " +
        $"{r.Outcome} {r.UserInstructions}/{r.KernelInstructions} {r.After} {string.Join(',', r.CFunctions)}";

    public static string Fingerprint(UserRunResult r) =>
        $"{r.Outcome} {r.Signal} {r.Fault} {r.Oops} {r.ExitStatus} {r.UserInstructions}/{r.KernelInstructions} {r.After} {r.KernelEntries.Count} {r.Stdout}";

    /// <summary>Counts a user-visible outcome by kind.</summary>
    public static void Count(FuzzContext ctx, string prefix, CpuFault? fault, string? signal, string outcome)
    {
        if (fault is not null) ctx.Saw($"{prefix}: fault {fault.Mnemonic} (cpl {fault.Cpl})");
        if (signal is not null) ctx.Saw($"{prefix}: signal {signal}");
        int colon = outcome.IndexOf(" after", StringComparison.Ordinal);
        ctx.Saw($"{prefix}: {(colon > 0 ? outcome[..colon] : outcome)}");
    }
}
