using System.Management.Automation;
using SyscallTools.Core.Assembly;
using SyscallTools.Core.Linux;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Runs user code in the emulated task — Intel-syntax assembly or raw bytes — until it runs off its end, exits, is
/// killed, or spends its instruction budget, and reports every kernel entry it made.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "EmuCode", DefaultParameterSetName = AssemblySet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(UserRunResult))]
public sealed class InvokeEmuCodeCommand : PSCmdlet
{
    public const string AssemblySet = "Assembly";
    public const string BytesSet = "Bytes";

    /// <summary>The machine to run on (New-EmuCpu).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public EmuCpu Cpu { get; set; } = null!;

    /// <summary>Intel-syntax lines, assembled for the task's bitness ('mov eax, 20', 'int 0x80', 'top:', 'jnz top').</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = AssemblySet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Assembly { get; set; } = [];

    /// <summary>Machine code to run as it is.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BytesSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public byte[] Bytes { get; set; } = [];

    /// <summary>Instruction budget for the whole run (user and kernel).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxInstructions { get; set; } = 1_000_000;

    /// <summary>Record every instruction, far transfer, C function and fault (Get-EmuTrace reads it).</summary>
    [Parameter]
    public SwitchParameter Trace { get; set; }

    /// <summary>The largest code RunUserCode takes.</summary>
    private const int MaxCodeBytes = 0x7000;

    protected override void ProcessRecord()
    {
        var m = Cpu.Machine;
        if (m.Task.Exited)
        {
            WriteError(InvokeSyscallCommand.TaskExitedError(Cpu));
            return;
        }
        // Code runs at LinuxMachine.UserCodeAddress: assemble for that address so absolute branches land right.
        ulong address = m.UserCodeAddress;
        byte[] code;
        if (ParameterSetName == AssemblySet)
        {
            try { code = IntelSyntax.Assemble(Assembly, m.Task.Bitness, address); }
            catch (IntelSyntaxException e)
            {
                WriteError(Errors.Errors.Record(ErrorIds.InvalidAssembly, ErrorCategory.ParserError, e.SourceText,
                    $"The assembly does not assemble for a {m.Task.Bitness}-bit task: {e.Message}. Fix that line (Intel syntax, e.g. 'mov eax, 20', 'int 0x80', 'mov dword ptr [ebx+4], 1').", e));
                return;
            }
        }
        else code = Bytes;
        if (code.Length > MaxCodeBytes)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidAssembly, ErrorCategory.InvalidArgument, code.Length,
                $"The code is {code.Length} bytes; the task's code area holds {MaxCodeBytes} (28 KiB). Run it in smaller pieces."));
            return;
        }
        if (!ShouldProcess(Cpu.ToString(), $"Run {code.Length} bytes of user code")) return;
        var result = m.RunUserCode(code, null, MaxInstructions, Trace, _cancel.Token);
        InvokeSyscallCommand.WriteTracerErrors(Cpu, this);
        WriteObject(result);
    }

    // Ctrl+C: the emulator polls the token between blocks, so even a long run stops promptly.
    private readonly CancellationTokenSource _cancel = new();

    protected override void StopProcessing() => _cancel.Cancel();
}
