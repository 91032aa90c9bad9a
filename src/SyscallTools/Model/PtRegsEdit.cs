using System.Management.Automation;
using SyscallTools.Core.Linux.Ptrace;

namespace SyscallTools;

/// <summary>A pending tracer edit: the registers to write (and/or a script to run) at the next matching ptrace stop.</summary>
public sealed class PtRegsEdit
{
    public required PtraceStopKind At { get; init; }
    /// <summary>Register name (pt_regs spelling) → value.</summary>
    public required IReadOnlyDictionary<string, ulong> Registers { get; init; }
    public ScriptBlock? ScriptBlock { get; init; }
    /// <summary>Applied at every matching stop instead of only the next one.</summary>
    public bool Persist { get; init; }
    /// <summary>How many stops it has been applied at.</summary>
    public int Applied { get; internal set; }

    public override string ToString() =>
        $"at {At}: {string.Join(", ", Registers.Select(kv => $"{kv.Key}=0x{kv.Value:x}"))}{(ScriptBlock is null ? "" : " + script")}{(Persist ? " (every stop)" : "")}";
}
