using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Core.Linux.Exec;

/// <summary>One system call a program made: how it came in, what the kernel answered, how it left.</summary>
public sealed record ProcessSyscall
{
    /// <summary>Its place among the program's system calls, from 1.</summary>
    public required int Index { get; init; }
    public required long Number { get; init; }
    public required string Name { get; init; }
    /// <summary>SYSCALL, SYSENTER or INT 0x80: the instruction that entered the kernel.</summary>
    public required string EntryInstruction { get; init; }
    /// <summary>The entry stub it reached (entry_SYSCALL_64, entry_SYSENTER_compat, ...).</summary>
    public string? EntryStub { get; init; }
    /// <summary>True when the entering instruction was in the vDSO (libc called AT_SYSINFO's __kernel_vsyscall).</summary>
    public bool ViaVdso { get; init; }
    /// <summary>SYSRETQ, SYSRETL, SYSEXIT or IRET; null when the call never returned (exit_group, a fatal signal).</summary>
    public string? ExitInstruction { get; init; }
    /// <summary>Where the exit went, as symbol+offset when it is a known symbol (the vDSO's int80_landing_pad).</summary>
    public string? ExitSymbol { get; init; }
    /// <summary>What user space got back in ax (sign-extended), or null when the call never returned.</summary>
    public long? Return { get; init; }
    public string? Errno { get; init; }
    /// <summary>False when the model has no implementation and answered -ENOSYS.</summary>
    public bool Modelled { get; init; } = true;
    /// <summary>A signal delivered on the way out, or the one that killed the task.</summary>
    public string? Signal { get; init; }
    /// <summary>The exit policy's decision with every check (Get-ExitPath's view).</summary>
    public ExitDecision? ExitPath { get; init; }

    public override string ToString() =>
        $"{Name}({Number}) = {(Return is long r ? (Errno is string e ? $"-{e}" : r.ToString()) : "?")} [{EntryInstruction}{(ViaVdso ? " via vDSO" : "")} -> {ExitInstruction ?? "none"}]";
}
