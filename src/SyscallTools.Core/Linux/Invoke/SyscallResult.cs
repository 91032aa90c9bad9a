using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Core.Linux;

/// <summary>Everything one system call did, from the user's registers before it to the user's registers after it.</summary>
public sealed record SyscallResult
{
    public required string Name { get; init; }
    public required long Number { get; init; }
    public required EntryMethod Via { get; init; }
    public required string Kernel { get; init; }
    public required string Vendor { get; init; }
    /// <summary>The kernel's bitness (64, or 32 for a 32-bit kernel).</summary>
    public int KernelBits { get; init; }
    /// <summary>The value user space got back (eax/rax after the call), sign-extended from the task's width.</summary>
    public long Return { get; init; }
    /// <summary>The errno name when Return is an error (-4095..-1), else null.</summary>
    public string? Errno { get; init; }
    /// <summary>SYSCALL, SYSENTER or INT 0x80 — what actually entered the kernel (the vDSO picks one).</summary>
    public string? EntryInstruction { get; init; }
    /// <summary>SYSRETQ, SYSRETL, SYSEXIT or IRET — what actually left it; null if it never returned.</summary>
    public string? ExitInstruction { get; init; }
    public ExitDecision? ExitPath { get; init; }
    /// <summary>Where the kernel's exit instruction sent user space (the landing pad, SYSENTER_RETURN, the next instruction…).</summary>
    public ulong? ExitIp { get; init; }
    /// <summary><see cref="ExitIp"/> as symbol+offset (e.g. "[vdso] int80_landing_pad"), when it falls on a known symbol.</summary>
    public string? ExitSymbol { get; init; }
    public required RegisterSnapshot Before { get; init; }
    public required RegisterSnapshot After { get; init; }
    public IReadOnlyList<(string Name, ulong Value)>? PtRegs { get; init; }
    /// <summary>The signal delivered or that killed the task (SIGSEGV …), or null.</summary>
    public string? Signal { get; init; }
    public CpuFault? Fault { get; init; }
    public string? Oops { get; init; }
    public bool TaskExited { get; init; }
    public long UserInstructions { get; init; }
    public long KernelInstructions { get; init; }
    public IReadOnlyList<string> CFunctions { get; init; } = [];
    /// <summary>Every kernel entry of the run (the call, and any fault, signal or sigreturn entries it led to).</summary>
    public IReadOnlyList<KernelCallRecord> KernelEntries { get; init; } = [];
    public IReadOnlyList<TraceEvent>? Trace { get; init; }
    /// <summary>How the run ended (Stopped at the return point, or why not).</summary>
    public required string Outcome { get; init; }
    /// <summary>True when the call came back to the instruction after it.</summary>
    public bool Completed { get; init; }
}
