using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Linux.Exec;

/// <summary>What running a program did: how it ended, what it wrote, every system call, the instruction counts.</summary>
public sealed record ProcessRunResult
{
    /// <summary>The virtual path it ran as.</summary>
    public required string Path { get; init; }
    public required int Bitness { get; init; }
    public required string Kernel { get; init; }
    public required string Vendor { get; init; }
    /// <summary>How the run ended: "exited", "killed", or why it stopped before (budget, blocked, a kernel oops, cancelled).</summary>
    public required string Outcome { get; init; }
    /// <summary>True when the task ended (exit_group or a fatal signal).</summary>
    public bool Exited { get; init; }
    /// <summary>The exit status (0–255) when it exited by itself; null when a signal killed it or it did not end.</summary>
    public int? ExitStatus { get; init; }
    /// <summary>The signal that killed it (SIGSEGV, SIGILL, ...), or null.</summary>
    public string? Signal { get; init; }
    public string Stdout { get; init; } = "";
    public string Stderr { get; init; } = "";
    public IReadOnlyList<ProcessSyscall> Syscalls { get; init; } = [];
    /// <summary>Kernel entries after the first <see cref="LinuxMachine.MaxRecordedEntries"/>, counted but not recorded
    /// (so not in <see cref="Syscalls"/>, and their calls not in <see cref="NotModelledSyscalls"/>).</summary>
    public long UnrecordedEntries { get; init; }
    /// <summary>The names of the calls it made that the model answered -ENOSYS without implementing, once each.</summary>
    public IReadOnlyList<string> NotModelledSyscalls { get; init; } = [];
    /// <summary>The instruction that raised #UD because the CPU model lacks it, if one stopped the program.</summary>
    public string? NotModelledInstruction { get; init; }
    /// <summary>The first exception user code raised (a #PF that became SIGSEGV, a #UD ...).</summary>
    public CpuFault? Fault { get; init; }
    public string? Oops { get; init; }
    /// <summary>Why the task blocked for ever, when it did.</summary>
    public string? Blocked { get; init; }
    public long UserInstructions { get; init; }
    public long KernelInstructions { get; init; }
    public long Instructions => UserInstructions + KernelInstructions;
    /// <summary>Where exec put the program and its stack.</summary>
    public required ExecLayout Layout { get; init; }
    /// <summary>The per-entry records (syscalls, faults, signal deliveries) for the detail Get-ExitPath shows.</summary>
    public IReadOnlyList<KernelCallRecord> KernelEntries { get; init; } = [];
}
