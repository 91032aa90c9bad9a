using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Linux.Models;

/// <summary>The 2015 rewrite as released in v4.4: C do_fast_syscall_32 (long return), asm 64-bit fast path.</summary>
public class Linux44 : KernelModel
{
    public override string Name => "linux-4.4";
    public override string Description =>
        "Linux 4.4: the 2015 rewrite as released — one vDSO with alternatives, fast entries return to int80_landing_pad, opportunistic SYSRETL/SYSEXIT decided in C; 64-bit SYSCALL keeps the asm fast path (SYSRETQ unchecked without work flags); int $0x80 zeroes r8-r11.";
    public override string Follows => "Andy Lutomirski, \"x86: Rewrite all syscall entries except native 64-bit\" (LKML, Sep 2015), merged for v4.3; v4.4 arch/x86/entry/common.c";
    public override string Release => "4.4.0";
    public override EntryGeneration Generation => EntryGeneration.Rewrite;

    public override ExitDecision Syscall64Exit(ExitInputs x)
    {
        var r = x.Regs;
        var ladder = Ladder(x, "SYSRETQ");
        ladder.Check("entry_SYSCALL_64 fast path (no work flags)", x.SlowPath ? "slow path" : "fast path", "fast path", true,
            x.SlowPath ? "work was pending: the slow path re-checks pt_regs before an opportunistic SYSRET"
                       : "nothing could have changed pt_regs, so SYSRETQ without checks");
        if (!x.SlowPath) return ladder.Decide();
        ulong canonical = (ulong)((long)(r.Ip << 16) >> 16);
        return ladder
            .Check("regs->cx == regs->ip", r.Cx, r.Ip, "SYSRET loads RIP from RCX")
            .Check("regs->ip is canonical (sign-extended from bit 47)", r.Ip, canonical,
                "a non-canonical RCX makes Intel's SYSRET #GP in ring 0 on the user stack")
            .Check("regs->cs == __USER_CS", r.Cs, Selectors.X64.UserCs, "SYSRET forces CS")
            .Check("regs->r11 == regs->flags", r.R11, r.Flags, "SYSRET loads RFLAGS from R11")
            .NoFlags("!(regs->flags & (RF|TF))", r.Flags, RFlags.RF | RFlags.TF,
                "SYSRET cannot restore RF; TF would trap right after it")
            .Check("regs->ss == __USER_DS", r.Ss, Selectors.X64.UserDs, "SYSRET forces SS")
            .Decide();
    }

    /// <summary>The 6th-argument fetch: a bad user stack fails the call with -EFAULT and leaves by IRET.</summary>
    protected ExitLadder ArgFetched(ExitInputs x) => Ladder(x, Fast32Instruction(x.KernelBits))
        .Check("6th argument fetched from (u32)regs->sp", x.ArgFetchOk ? "ok" : "-EFAULT", "ok", x.ArgFetchOk,
            "a bad user stack fails the syscall with -EFAULT and returns with IRET (\"keep it simple\")");

    /// <summary>v4.4's first tests after a fast entry, which the 2015 design models keep: the fetch, and SEP on a 32-bit kernel.</summary>
    protected ExitLadder ArgFetchedAndSep(ExitInputs x)
    {
        var ladder = ArgFetched(x);
        if (x.KernelBits == 32)
            ladder.Check("cpu_has(X86_FEATURE_SEP)", x.CpuHasSep ? "yes" : "no", "yes", x.CpuHasSep, "SYSEXIT needs SEP");
        return ladder;
    }

    public override ExitDecision FastSyscall32Exit(ExitInputs x)
    {
        var r = x.Regs;
        var ladder = ArgFetchedAndSep(x);
        ladder.Check("regs->cs == __USER32_CS", r.Cs, User32Cs(x.KernelBits), "the fast exit loads a fixed CS")
            .Check("regs->ss == __USER_DS", r.Ss, UserDs(x.KernelBits), "the fast exit loads a fixed SS")
            .Check("regs->ip == landing pad", r.Ip, x.LandingPad, "the fast exit can only return to the landing pad");
        ulong mask = x.KernelBits == 64 ? RFlags.RF | RFlags.TF : RFlags.RF | RFlags.TF | RFlags.VM;
        string name = x.KernelBits == 64 ? "!(regs->flags & (RF|TF))" : "!(regs->flags & (RF|TF|VM))";
        return ladder.NoFlags(name, r.Flags, mask,
                x.KernelBits == 32 ? "the fast exits cannot restore RF; TF would trap; VM needs IRET" : "the fast exits cannot restore RF; TF would trap")
            .Decide();
    }
}
