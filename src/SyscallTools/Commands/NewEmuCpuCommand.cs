using System.Management.Automation;
using SyscallTools.Completion;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Boots an emulated machine: a processor of the chosen vendor, a kernel of the chosen model and bitness, and one
/// task (pid 4242) of the chosen bitness, with the 32-bit vDSO mapped unless -NoVdso.
/// </summary>
[Cmdlet(VerbsCommon.New, "EmuCpu")]
[OutputType(typeof(EmuCpu))]
public sealed class NewEmuCpuCommand : PSCmdlet
{
    /// <summary>The processor vendor: Intel (Skylake) or AMD (Zen 3).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Intel", "AMD")]
    public string Vendor { get; set; } = "AMD";

    /// <summary>The kernel model, as Get-EmuKernel names it.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(KernelNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Kernel { get; set; } = "linux-6.18";

    /// <summary>The kernel's bitness: 64 (x86-64 with IA32 emulation) or 32 (i386).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("64", "32")]
    public int KernelBits { get; set; } = 64;

    /// <summary>The task's bitness: 32 (i386 ABI) or 64 (x86-64 ABI, 64-bit kernels only).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("32", "64")]
    public int Bitness { get; set; } = 32;

    /// <summary>Boot as with vdso32=0: a 32-bit task gets no vDSO and no AT_SYSINFO.</summary>
    [Parameter]
    public SwitchParameter NoVdso { get; set; }

    protected override void ProcessRecord()
    {
        var model = KernelModel.Find(Kernel);
        if (model is null)
        {
            WriteError(Errors.Errors.Record(ErrorIds.UnknownKernel, ErrorCategory.ObjectNotFound, Kernel,
                $"There is no kernel model '{Kernel}'. Use one of: {string.Join(", ", KernelModel.All.Select(m => m.Name))} (Get-EmuKernel describes them)."));
            return;
        }
        if (KernelBits == 32 && Bitness == 64)
        {
            WriteError(Errors.Errors.Record(ErrorIds.InvalidCombination, ErrorCategory.InvalidArgument, Bitness,
                "A 32-bit kernel cannot run a 64-bit task. Use -KernelBits 64 for a 64-bit task, or -Bitness 32 on a 32-bit kernel."));
            return;
        }
        var profile = Vendor.Equals("Intel", StringComparison.OrdinalIgnoreCase) ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3;
        WriteObject(new EmuCpu(new LinuxMachine(model, profile, KernelBits, Bitness, vdso: !NoVdso)));
    }
}
