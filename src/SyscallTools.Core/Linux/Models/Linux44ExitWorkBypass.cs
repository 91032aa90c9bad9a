namespace SyscallTools.Core.Linux.Models;

/// <summary>
/// Andy Lutomirski's counter-proposal in the 2015 thread: "if (!(ti->flags &amp; _TIF_SYSCALL_EXIT_WORK)) return true;
/// i.e. just bypassing the slow path exit and the check." Taken as written: with no syscall-exit work the slow exit is
/// skipped whole — exit work, the exit-to-user-mode loop and the opportunistic checks. Right whenever a tracer is
/// involved (tracing is exit work, so the checks still run); wrong for what the loop does without exit work — a signal
/// the call itself raised is not delivered on this return — and for the user's own TF, which SYSRETL restores with an
/// immediate trap.
/// </summary>
public sealed class Linux44ExitWorkBypass : Linux44
{
    public override string Name => "linux-4.4+exit-work-bypass";
    public override string Description =>
        "Design model (not a kernel): linux-4.4 whose do_fast_syscall_32 returns true at once when no _TIF_WORK_SYSCALL_EXIT flag is set, skipping the slow exit (and its signal delivery) and the checks.";
    public override string Follows => "Andy Lutomirski, Re: [RFC 00/30] x86: Rewrite all syscall entries except native 64-bit (LKML, 3 Sep 2015)";

    public override bool SkipsSlowExit(ThreadFlags flags) => (flags & ThreadFlags.SyscallExitWork) == 0;

    public override ExitDecision FastSyscall32Exit(ExitInputs x)
    {
        if (x.SlowPath) return base.FastSyscall32Exit(x);
        return ArgFetched(x)
            .Check("!(ti->flags & _TIF_WORK_SYSCALL_EXIT)", "no exit work", "no exit work", true,
                "no exit work: the slow exit, its work loop and the opportunistic checks are all bypassed")
            .Decide();
    }
}
