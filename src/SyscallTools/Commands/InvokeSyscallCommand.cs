using System.Management.Automation;
using SyscallTools.Completion;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Ptrace;
using SyscallTools.Core.Linux.Syscalls;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Makes one system call (or -Count of them) from the emulated task through a chosen entry — int $0x80, SYSENTER,
/// SYSCALL or the vDSO — and returns what happened: the entry and exit instructions, the return value, the exit
/// decision, registers before and after, and any signal.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "Syscall", DefaultParameterSetName = ByName, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(SyscallResult))]
public sealed class InvokeSyscallCommand : PSCmdlet
{
    public const string ByName = nameof(ByName);
    public const string ByNumber = nameof(ByNumber);

    /// <summary>The machine to run on (New-EmuCpu).</summary>
    /// <summary>
    /// One machine or several: an array runs the call on each in turn inside one invocation (a sweep without the
    /// per-object cost of the pipeline), one result per machine.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public EmuCpu[] Cpu { get; set; } = null!;

    /// <summary>The system call's name in the task's table (the i386 table for -Via Int80).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(SyscallNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The raw system-call number (a number with no table row returns -ENOSYS, as in the kernel).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByNumber)]
    public long Number { get; set; }

    /// <summary>Up to six arguments, in ABI order (ebx, ecx, edx, esi, edi, ebp or rdi, rsi, rdx, r10, r8, r9).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Args")]
    [ValidateCount(0, 6)]
    public long[] ArgumentList { get; set; } = [];

    /// <summary>How to enter the kernel: Int80, Sysenter, Syscall or Vdso. Default: Vdso for a 32-bit task, Syscall for a 64-bit one.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public EntryMethod? Via { get; set; }

    /// <summary>Make the call this many times and return one result with totals.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    /// <summary>Record every instruction, far transfer, C function and fault (Get-EmuTrace reads it).</summary>
    [Parameter]
    public SwitchParameter Trace { get; set; }

    /// <summary>Instruction budget per call; a call that needs more stops with the outcome BudgetExhausted.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxInstructions { get; set; } = 1_000_000;

    protected override void ProcessRecord()
    {
        foreach (var cpu in Cpu)
        {
            // (Mandatory binding has already refused a null array or null elements.)
            if (_cancel.IsCancellationRequested) return;
            Invoke(cpu);
        }
    }

    private void Invoke(EmuCpu cpu)
    {
        var m = cpu.Machine;
        if (m.Task.Exited)
        {
            WriteError(TaskExitedError(cpu));
            return;
        }
        var via = Via ?? m.DefaultEntry;
        if (via == EntryMethod.Vdso && m.Task.Bitness == 64)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, via,
                "A 64-bit task has no 32-bit vDSO entry (AT_SYSINFO). Use -Via Syscall, or -Via Int80 for the i386 table."));
            return;
        }
        if (via == EntryMethod.Vdso && m.KernelVsyscall == 0)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, via,
                "This machine was made with -NoVdso, so there is no __kernel_vsyscall to call. Use -Via Int80, Sysenter or Syscall, or make a machine without -NoVdso."));
            return;
        }

        long number = Number;
        string name;
        if (ParameterSetName == ByName)
        {
            var abi = m.Task.Bitness == 32 || via == EntryMethod.Int80 ? SyscallAbi.I386 : SyscallAbi.X86_64;
            var row = SyscallTable.For(abi).ByName(Name);
            if (row is null)
            {
                var other = SyscallTable.For(abi == SyscallAbi.I386 ? SyscallAbi.X86_64 : SyscallAbi.I386).ByName(Name);
                string hint = other is null ? "" : abi == SyscallAbi.I386 && m.Task.Bitness == 64
                    ? $" '{Name}' is in the x86-64 table; int $0x80 always uses the i386 one."
                    : $" '{Name}' is only in the {(abi == SyscallAbi.I386 ? "x86-64" : "i386")} table.";
                WriteError(Errors.Errors.Record(ErrorIds.UnknownSyscall, ErrorCategory.ObjectNotFound, Name,
                    $"There is no system call '{Name}' in the {(abi == SyscallAbi.I386 ? "i386" : "x86-64")} table this call would use.{hint} " +
                    "Press Tab after -Name to list the names, or pass -Number for a raw number."));
                return;
            }
            number = row.Number;
            name = row.Name;
        }
        else name = $"#{Number}";

        if (!ShouldProcess(cpu.ToString(), $"Invoke system call {name} ({number}) via {via}{(Count > 1 ? $" {Count} times" : "")}")) return;

        var args = ArgumentList.Select(a => unchecked((ulong)a)).ToArray();
        SyscallResult? last = null;
        long user = 0, kernel = 0;
        int done = 0;
        var progress = Count >= 1000 ? new ProgressRecord(1, "Invoke-Syscall", $"{name} via {via}") : null;
        int step = Math.Max(1, Count / 100);
        for (int i = 0; i < Count; i++)
        {
            if (progress is not null && i % step == 0)
            {
                progress.PercentComplete = (int)(100L * i / Count);
                progress.StatusDescription = $"{name} via {via}: {i} of {Count}";
                WriteProgress(progress);
            }
            try
            {
                last = m.InvokeSyscall(number, args, via, Trace, MaxInstructions, cancel: _cancel.Token);
            }
            catch (InvalidOperationException e) when (m.Task.Exited)
            {
                WriteError(TaskExitedError(cpu, e));
                break;
            }
            WriteTracerErrors(cpu, this);
            done++;
            user += last.UserInstructions;
            kernel += last.KernelInstructions;
            if (last.TaskExited || m.Task.Exited) break;
        }
        if (progress is not null)
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
        if (last is null) return;
        cpu.LastSyscall = last;
        if (!MyInvocation.BoundParameters.ContainsKey(nameof(Count)))
        {
            WriteObject(last);
            return;
        }
        // One object for the whole run: the last result, with the totals added and its own view.
        var summary = new PSObject(last);
        summary.TypeNames.Insert(0, RepeatedTypeName);
        summary.Properties.Add(new PSNoteProperty("Count", done));
        summary.Properties.Add(new PSNoteProperty("TotalUserInstructions", user));
        summary.Properties.Add(new PSNoteProperty("TotalKernelInstructions", kernel));
        WriteObject(summary);
    }

    /// <summary>Reports (and forgets) what failed in Set-PtRegs edits during the run just made.</summary>
    internal static void WriteTracerErrors(EmuCpu cpu, PSCmdlet cmdlet)
    {
        foreach (var (edit, error) in cpu.TracerErrors)
        {
            string what = error is PtraceWriteException p ? p.Message : error.Message;
            cmdlet.WriteError(Errors.Errors.Record(ErrorIds.TracerScriptFailed, ErrorCategory.InvalidOperation, edit,
                $"The Set-PtRegs edit at the {edit.At} stop failed: {what}. The call went on without the rest of that edit; fix the -ScriptBlock (or the value it pokes).", error));
        }
        cpu.TracerErrors.Clear();
    }

    /// <summary>The type name a -Count result carries (format view SyscallResultRepeated).</summary>
    public const string RepeatedTypeName = "SyscallTools.Core.Linux.SyscallResult#Repeated";

    internal static ErrorRecord TaskExitedError(EmuCpu cpu, Exception? inner = null)
    {
        var t = cpu.Machine.Task;
        string how = t.KilledBy is int k ? $"was killed by {Signal.Name(k)}" : $"exited with status {t.ExitStatus}";
        return Errors.Errors.Record(ErrorIds.TaskExited, ErrorCategory.InvalidOperation, cpu,
            $"The emulated task {how}, so this machine can run nothing more. Make a new one with New-EmuCpu.", inner);
    }

    // Ctrl+C: the emulator polls the token between blocks, so even a long run stops promptly.
    private readonly CancellationTokenSource _cancel = new();

    protected override void StopProcessing() => _cancel.Cancel();
}
