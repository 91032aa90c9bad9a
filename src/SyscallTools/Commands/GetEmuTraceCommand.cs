using System.Management.Automation;
using SyscallTools.Core.Linux;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Lists the trace a result recorded with -Trace: every instruction retired (ring 3 and ring 0), every far transfer
/// (SYSCALL, SYSENTER, INT, SYSRET, SYSEXIT, IRET), every kernel C function called, and every fault.
/// </summary>
[Cmdlet(VerbsCommon.Get, "EmuTrace")]
[OutputType(typeof(TraceEvent))]
public sealed class GetEmuTraceCommand : PSCmdlet
{
    /// <summary>A result from Invoke-Syscall -Trace or Invoke-EmuCode -Trace.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    /// <summary>Only these kinds of event: insn, far, call, fault.</summary>
    [Parameter]
    [ValidateSet("insn", "far", "call", "fault")]
    public string[]? Kind { get; set; }

    /// <summary>Only events in this ring (3 user, 0 kernel).</summary>
    [Parameter]
    [ValidateSet("0", "3")]
    public int? Ring { get; set; }

    protected override void ProcessRecord()
    {
        IReadOnlyList<TraceEvent>? trace;
        switch (InputObject.BaseObject)
        {
            case SyscallResult s: trace = s.Trace; break;
            case UserRunResult u: trace = u.Trace; break;
            default:
                WriteError(Errors.Errors.Record(ErrorIds.UnsupportedInput, ErrorCategory.InvalidType, InputObject,
                    $"Get-EmuTrace reads the results of Invoke-Syscall and Invoke-EmuCode, not {InputObject.BaseObject?.GetType().Name ?? "null"}."));
                return;
        }
        if (trace is null)
        {
            WriteError(Errors.Errors.Record(ErrorIds.NoTrace, ErrorCategory.InvalidData, InputObject,
                "This result was made without a trace. Run the command again with -Trace (Invoke-Syscall -Trace or Invoke-EmuCode -Trace)."));
            return;
        }
        foreach (var e in trace)
        {
            if (Kind is not null && !Kind.Contains(e.Kind, StringComparer.OrdinalIgnoreCase)) continue;
            if (Ring is int r && e.Ring != r) continue;
            WriteObject(e);
        }
    }
}
