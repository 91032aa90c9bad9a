namespace SyscallTools.Core.Linux.Models;

/// <summary>
/// The accessors Andy Lutomirski floated in the 2015 thread: "const struct pt_regs *syscall_pt_regs_read() and struct
/// pt_regs *syscall_pt_regs_write(). The latter could set a flag." Every write made on the task's behalf (a tracer's,
/// a signal frame's, sigreturn's, single-step's TF) goes through the write accessor; the fast exit runs v4.4's checks
/// only when the flag is set. Right for every write; wrong for state that was never written — the user's own TF at
/// entry, which SYSRETL then restores with an immediate trap.
/// </summary>
public sealed class Linux44PtRegsAccessors : Linux44
{
    public override string Name => "linux-4.4+ptregs-accessors";
    public override string Description =>
        "Design model (not a kernel): linux-4.4 whose fast 32-bit exit runs the opportunistic checks only when pt_regs was written through a syscall_pt_regs_write() accessor (tracer, signal frame, sigreturn, single-step).";
    public override string Follows => "Andy Lutomirski, Re: [RFC 00/30] x86: Rewrite all syscall entries except native 64-bit (LKML, 3 Sep 2015)";

    public override ExitDecision FastSyscall32Exit(ExitInputs x)
    {
        if (x.PtRegsWritten || !x.ArgFetchOk) return base.FastSyscall32Exit(x);
        return ArgFetchedAndSep(x).Check("no syscall_pt_regs_write() since entry", "not written", "not written", true,
                "nothing wrote pt_regs, so the checks are skipped")
            .Decide();
    }
}
