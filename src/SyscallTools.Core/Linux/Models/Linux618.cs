using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Linux.Models;

/// <summary>Today's entry code (v6.18): do_syscall_64 and do_fast_syscall_32 return bool; INT 0x80 is do_int80_emulation.</summary>
public sealed class Linux618 : KernelModel
{
    public override string Name => "linux-6.18";
    public override string Description =>
        "Linux 6.18: C entry code with bool returns; SYSRETQ only for ip < TASK_SIZE_MAX; RF|TF|VM refused for SYSRETL/SYSEXIT; int $0x80 through do_int80_emulation (registers preserved).";
    public override string Follows => "torvalds/linux v6.18: arch/x86/entry/syscall_64.c, syscall_32.c, entry_64_compat.S";
    public override string Release => "6.18.0";
    public override EntryGeneration Generation => EntryGeneration.Modern;

    public override ExitDecision Syscall64Exit(ExitInputs x)
    {
        var r = x.Regs;
        return Ladder(x, "SYSRETQ")
            .Check("regs->cx == regs->ip", r.Cx, r.Ip, "SYSRET loads RIP from RCX")
            .Check("regs->r11 == regs->flags", r.R11, r.Flags, "SYSRET loads RFLAGS from R11")
            .Check("regs->cs == __USER_CS", r.Cs, Selectors.X64.UserCs, "SYSRET forces CS to __USER_CS")
            .Check("regs->ss == __USER_DS", r.Ss, Selectors.X64.UserDs, "SYSRET forces SS to __USER_DS")
            .Below("regs->ip < TASK_SIZE_MAX", r.Ip, TaskSizeMax,
                "a non-canonical RCX makes Intel's SYSRET #GP in ring 0 on the user stack")
            .NoFlags("!(regs->flags & (RF|TF))", r.Flags, RFlags.RF | RFlags.TF,
                "SYSRET cannot restore RF, and restoring TF would trap right after it")
            .Decide();
    }

    public override ExitDecision FastSyscall32Exit(ExitInputs x)
    {
        var r = x.Regs;
        return Ladder(x, Fast32Instruction(x.KernelBits))
            .Check("6th argument fetched from (u32)regs->sp", x.ArgFetchOk ? "ok" : "-EFAULT", "ok", x.ArgFetchOk,
                "a bad user stack fails the syscall with -EFAULT and returns with IRET")
            .Check("regs->ip == landing pad", r.Ip, x.LandingPad, "EIP must point to the vDSO landing pad")
            .Check("regs->cs == __USER32_CS", r.Cs, User32Cs(x.KernelBits), "must match the value the fast exit loads")
            .Check("regs->ss == __USER_DS", r.Ss, UserDs(x.KernelBits), "must match the value the fast exit loads")
            .NoFlags("!(regs->flags & (RF|TF|VM))", r.Flags, RFlags.RF | RFlags.TF | RFlags.VM,
                "the fast exits cannot restore RF, TF would trap, VM needs IRET")
            .Decide();
    }
}
