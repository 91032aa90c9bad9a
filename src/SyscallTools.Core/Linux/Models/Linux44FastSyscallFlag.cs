namespace SyscallTools.Core.Linux.Models;

/// <summary>
/// Brian Gerst's proposal in the 2015 thread: "add a ti->status flag TS_FASTSYSCALL. Then we could move the tests to
/// force_iret() ... The syscall exit path then would check the flag and exit via IRET if it's clear." The flag is set on
/// a fast entry and cleared by whatever forces IRET (tracer writes, signal frames, sigreturn); the exit tests nothing
/// else. It is right for register edits and wrong for state that needs IRET without any edit — the user's own TF (or
/// a PTRACE_SINGLESTEP TF, set without force_iret()), which SYSRETL then restores with a trap at once.
/// </summary>
public sealed class Linux44FastSyscallFlag : Linux44
{
    public override string Name => "linux-4.4+fastsyscall-flag";
    public override string Description =>
        "Design model (not a kernel): linux-4.4 whose fast 32-bit exit tests only a TS_FASTSYSCALL status flag, set on fast entry and cleared by force_iret() (tracer writes, signal frames, sigreturn).";
    public override string Follows => "Brian Gerst, Re: [RFC 00/30] x86: Rewrite all syscall entries except native 64-bit (LKML, 2 Sep 2015)";

    public override ExitDecision FastSyscall32Exit(ExitInputs x)
    {
        return ArgFetchedAndSep(x).Check("ti->status & TS_FASTSYSCALL", x.FastSyscallFlag ? "set" : "clear", "set", x.FastSyscallFlag,
                "the only exit test: force_iret() cleared the flag if anything rewrote the registers")
            .Decide();
    }
}
