using System.Management.Automation;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Syscalls;
using SyscallTools.Core.Linux.Vdso;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Single-steps a system call through __kernel_vsyscall and, at every instruction inside the vDSO, unwinds one frame
/// with the image's .eh_frame, comparing the recovered return address, CFA and registers with the caller's (the
/// selftest unwind_vdso). Kernel instructions are stepped over. One row per step.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "VdsoUnwind")]
[OutputType(typeof(VdsoUnwindRow))]
public sealed class TestVdsoUnwindCommand : PSCmdlet
{
    /// <summary>The machine whose 32-bit task calls through its vDSO (New-EmuCpu).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public EmuCpu Cpu { get; set; } = null!;

    /// <summary>The i386 system call to make (default getpid, which leaves every argument register alone).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "getpid";

    /// <summary>Up to six values for ebx, ecx, edx, esi, edi, ebp (default: the module's sentinels 0x0b0b0b0b …).</summary>
    [Parameter]
    [ValidateCount(0, 6)]
    public uint[]? ArgumentList { get; set; }

    /// <summary>Instruction budget (user and kernel) for the whole call.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxInstructions { get; set; } = 1_000_000;

    protected override void ProcessRecord()
    {
        var m = Cpu.Machine;
        if (m.Task.Exited) { WriteError(InvokeSyscallCommand.TaskExitedError(Cpu)); return; }
        if (m.Task.Bitness != 32 || m.KernelVsyscall == 0)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, Cpu,
                "This machine's task has no 32-bit vDSO (a 64-bit task, or New-EmuCpu -NoVdso). Use New-EmuCpu -Bitness 32 without -NoVdso."));
            return;
        }
        var row = SyscallTable.For(SyscallAbi.I386).ByName(Name);
        if (row is null)
        {
            WriteError(Errors.Errors.Record(ErrorIds.UnknownSyscall, ErrorCategory.ObjectNotFound, Name,
                $"There is no i386 system call '{Name}'. Use a name from the i386 table, e.g. getpid, getppid, kill."));
            return;
        }
        VdsoUnwindReport report;
        try { report = m.CheckVdsoUnwind(row.Number, ArgumentList, MaxInstructions); }
        catch (ElfFormatException e)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidVdsoImage, ErrorCategory.InvalidData, Cpu,
                $"The vDSO's unwind information cannot be read: {e.Message}. Map a good image (Import-EmuVdso) or make a new machine.", e));
            return;
        }
        if (!report.Completed) WriteWarning($"The call did not return to its caller: {report.Outcome}.");
        foreach (var s in report.Steps) WriteObject(new VdsoUnwindRow(s, Cpu));
    }
}
