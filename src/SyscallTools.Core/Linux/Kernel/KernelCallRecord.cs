using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Core.Linux;

/// <summary>How the current kernel entry came in.</summary>
public enum EntryKind { None, Syscall64, SyscallCompat, Sysenter, Int80, Exception }

/// <summary>What the kernel did during one entry: which path, which C functions, the exit decision, any oops.</summary>
public sealed class KernelCallRecord
{
    public EntryKind Entry { get; internal set; }
    public string? EntryStub { get; internal set; }
    /// <summary>The user address of the instruction that entered the kernel (inside the vDSO for __kernel_vsyscall).</summary>
    public ulong EntryIp { get; internal set; }
    public long Number { get; internal set; } = -1;
    public ExitDecision? Exit { get; internal set; }
    /// <summary>What the system call's implementation returned (a restart code such as -ERESTARTSYS included), or null
    /// when no implementation ran (an out-of-range number, a tracer's skip).</summary>
    public long? Return { get; internal set; }
    /// <summary>The instruction that actually left the kernel for this entry (SYSRETQ, SYSRETL, SYSEXIT, IRETQ…).</summary>
    public string? ExitInstruction { get; internal set; }
    /// <summary>Where the exit instruction returned to in user mode.</summary>
    public ulong? ExitIp { get; internal set; }
    public bool ArgFetchFailed { get; internal set; }
    public IReadOnlyList<(string Name, ulong Value)>? PtRegsAtExit { get; internal set; }
    public List<string> CFunctions { get; } = new();
    /// <summary>Whether the slow exit (exit work and the exit-to-user-mode loop) ran for this entry.</summary>
    public bool SlowExit { get; internal set; }
    /// <summary>A kernel-mode fault the model could not survive ("oops"), if one happened.</summary>
    public string? Oops { get; internal set; }
    /// <summary>The signal delivered or that killed the task.</summary>
    public int? Signal { get; internal set; }
    public string? Blocked { get; internal set; }
    /// <summary>The tracer stops during this entry.</summary>
    public List<Ptrace.PtraceStopRecord> PtraceStops { get; } = new();
    /// <summary>The user registers (from pt_regs) when a signal killed the task.</summary>
    public RegisterSnapshot? KilledWith { get; internal set; }
}
