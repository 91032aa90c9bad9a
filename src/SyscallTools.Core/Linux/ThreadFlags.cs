namespace SyscallTools.Core.Linux;

/// <summary>thread_info flags (_TIF_*, arch/x86/include/asm/thread_info.h; bit numbers as in v4.4–6.x).</summary>
[Flags]
public enum ThreadFlags : uint
{
    None = 0,
    SyscallTrace = 1u << 0,
    NotifyResume = 1u << 1,
    SigPending = 1u << 2,
    NeedResched = 1u << 3,
    SingleStep = 1u << 4,
    SyscallEmu = 1u << 6,
    SyscallAudit = 1u << 7,
    Seccomp = 1u << 8,
    UserReturnNotify = 1u << 11,
    Uprobe = 1u << 12,
    SyscallTracepoint = 1u << 28,

    /// <summary>
    /// _TIF_WORK_SYSCALL_ENTRY: anything that sends the entry through syscall_trace_enter. v4.x includes SINGLESTEP,
    /// so that a TF lost while single-stepping into SYSENTER is put back (syscall_trace_enter_phase2).
    /// </summary>
    WorkSyscallEntry = SyscallTrace | SyscallEmu | SyscallAudit | Seccomp | SyscallTracepoint | SingleStep,
    /// <summary>SYSCALL_EXIT_WORK_FLAGS: the ptrace/audit exit work before the return to user mode.</summary>
    SyscallExitWork = SyscallTrace | SyscallAudit | SingleStep | SyscallTracepoint,
    /// <summary>EXIT_TO_USERMODE_LOOP_FLAGS: the work loop of prepare_exit_to_usermode.</summary>
    ExitToUserModeLoop = SigPending | NotifyResume | Uprobe | NeedResched | UserReturnNotify,
    /// <summary>_TIF_ALLWORK_MASK (pre-rewrite fast paths): any of these sends the exit down the IRET path.</summary>
    AllWork = SyscallTrace | NotifyResume | SigPending | NeedResched | SingleStep | SyscallEmu | SyscallAudit
              | Seccomp | UserReturnNotify | Uprobe | SyscallTracepoint,
}
