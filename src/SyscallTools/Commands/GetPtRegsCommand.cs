using System.Management.Automation;

namespace SyscallTools.Commands;

/// <summary>
/// Reads struct pt_regs from the emulated kernel stack as the last system call left it: one property per kernel
/// field (r15 … orig_ax … ss on a 64-bit kernel; bx … gs, orig_ax, ip … ss on a 32-bit one), shown grouped as
/// arch/x86/include/asm/ptrace.h groups them.
/// </summary>
[Cmdlet(VerbsCommon.Get, "PtRegs")]
[OutputType(typeof(PtRegs64Frame), typeof(PtRegs32Frame))]
public sealed class GetPtRegsCommand : PSCmdlet
{
    /// <summary>The machine whose kernel stack to read.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public EmuCpu Cpu { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (Cpu.LastSyscall is null)
            WriteWarning("No system call has been made on this machine through Invoke-Syscall yet; pt_regs shows whatever the kernel stack holds (zeros after boot, or the last Invoke-EmuCode entry).");
        WriteObject(PtRegsFrame.From(Cpu.Machine.PtRegs));
    }
}
