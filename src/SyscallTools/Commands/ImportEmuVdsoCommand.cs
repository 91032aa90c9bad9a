using System.Management.Automation;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Vdso;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Maps a real 32-bit vDSO image (ELF32 i386, e.g. dumped from a 32-bit process's [vdso]) in place of the one the
/// machine built: __kernel_vsyscall and the sigreturn trampolines by symbol, the landing pad by symbol or by its bytes,
/// the alternative slot re-patched for the emulated CPU. Later system calls through the vDSO run its code.
/// </summary>
[Cmdlet(VerbsData.Import, "EmuVdso", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(EmuVdso))]
public sealed class ImportEmuVdsoCommand : PSCmdlet
{
    /// <summary>The machine whose task gets the image (New-EmuCpu, a 32-bit task on linux-4.4 or later).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public EmuCpu Cpu { get; set; } = null!;

    /// <summary>The image file.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    /// <summary>Write the machine's new vDSO (its base, landing pad, entry) to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var m = Cpu.Machine;
        if (m.Task.Exited) { WriteError(InvokeSyscallCommand.TaskExitedError(Cpu)); return; }
        if (m.Task.Bitness != 32 || m.Vdso is null || m.Task.VdsoBase == 0)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, Cpu,
                "Only a 32-bit task booted with a vDSO can have it replaced. Use New-EmuCpu -Bitness 32 without -NoVdso."));
            return;
        }
        if (m.Model.Generation == EntryGeneration.PreRewrite)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, Cpu,
                $"{m.Model.Name} returns SYSENTER and SYSCALL to addresses in its own three images, not to a landing pad, so it cannot run another image. Use -Kernel linux-4.4 or later."));
            return;
        }
        if (HostFileReader.TryRead(this, Path, new HostFileRules(
                ErrorIds.InvalidVdsoImage, ErrorCategory.InvalidArgument,
                f => $"'{f}' is a directory. Give the path of a vDSO image file (an ELF32 i386 shared object, e.g. one dumped from [vdso]).",
                ErrorIds.InvalidVdsoImage,
                16 * VdsoImport.MaxSize, ErrorIds.InvalidVdsoImage,
                (f, length) => $"'{f}' is {length} bytes; a vDSO is a few pages. Is this the right file?",
                ErrorIds.InvalidVdsoImage)) is not (string full, byte[] bytes)) return;
        VdsoImage image;
        try { image = VdsoImport.Load(bytes, m.KernelBits, full); }
        catch (InvalidVdsoImageException e)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidVdsoImage, ErrorCategory.InvalidData, Path,
                $"'{full}' is not a usable 32-bit vDSO: {e.Message}.", e));
            return;
        }
        if (!ShouldProcess(Cpu.ToString(), $"Map the vDSO image '{full}'")) return;
        m.ReplaceVdso(image);
        foreach (var note in image.Notes) WriteVerbose(note);
        if (PassThru) WriteObject(Cpu.Vdso);
    }
}
