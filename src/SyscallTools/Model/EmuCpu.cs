using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;

namespace SyscallTools;

/// <summary>
/// A booted emulated machine as the cmdlets hand it around: the processor vendor, the kernel model and bitness, the
/// task's bitness and its 32-bit vDSO. <see cref="Machine"/> is the Core machine itself, for anything the cmdlets do
/// not cover.
/// </summary>
public sealed class EmuCpu
{
    public EmuCpu(LinuxMachine machine)
    {
        Machine = machine;
    }

    /// <summary>The mapped vDSO as the machine has it now (Import-EmuVdso can replace it).</summary>
    private EmuVdso? CurrentVdso()
    {
        var image = Machine.Vdso;
        if (image is null || Machine.Task.VdsoBase == 0) return null;
        ulong b = Machine.Task.VdsoBase;
        return new EmuVdso(b, Machine.KernelVsyscall,
            image.LandingPad is int lp ? b + (ulong)lp : null,
            image.SysenterReturn is int sr ? b + (ulong)sr : null,
            image.EntryVariant, image.Flavor);
    }

    /// <summary>"Intel" or "AMD".</summary>
    public string Vendor => Machine.Cpu.Profile.Vendor == CpuVendor.Intel ? "Intel" : "AMD";
    public string Kernel => Machine.Model.Name;
    public int KernelBits => Machine.KernelBits;
    /// <summary>The task's bitness: 32 (i386, compat mode on a 64-bit kernel) or 64.</summary>
    public int Bitness => Machine.Task.Bitness;
    /// <summary>The task's 32-bit vDSO, or null for a 64-bit task or a machine made with -NoVdso.</summary>
    public EmuVdso? Vdso => CurrentVdso();
    public CpuProfile Profile => Machine.Cpu.Profile;
    public int Pid => Machine.Task.Pid;
    public bool TaskExited => Machine.Task.Exited;
    /// <summary>The entry Invoke-Syscall uses when -Via is not given.</summary>
    public EntryMethod DefaultEntry => Machine.DefaultEntry;
    /// <summary>The last result Invoke-Syscall produced on this machine, or null.</summary>
    public SyscallResult? LastSyscall { get; internal set; }

    /// <summary>Tracer edits waiting for their ptrace stop (Set-PtRegs).</summary>
    public IReadOnlyList<PtRegsEdit> PendingEdits => _edits;

    private readonly List<PtRegsEdit> _edits = new();

    /// <summary>What went wrong in a tracer edit at a stop during the last run, for the running cmdlet to report.</summary>
    internal List<(PtRegsEdit Edit, Exception Error)> TracerErrors { get; } = new();

    /// <summary>Queues an edit and attaches the machine's tracer to apply it.</summary>
    internal void AddEdit(PtRegsEdit edit, Action<PtRegsEdit, SyscallTools.Core.Linux.Ptrace.PtraceStop> apply)
    {
        _edits.Add(edit);
        Machine.Tracer.OnStop = stop =>
        {
            foreach (var e in _edits.Where(e => e.At == stop.Kind).ToList())
            {
                // A tracer that fails does not take the kernel down: the stop ends, the call goes on, the cmdlet reports it.
                try { apply(e, stop); }
                catch (Exception x) when (x is System.Management.Automation.RuntimeException or SyscallTools.Core.Linux.Ptrace.PtraceWriteException or ArgumentException)
                {
                    TracerErrors.Add((e, x));
                }
                e.Applied++;
                if (!e.Persist) _edits.Remove(e);
            }
            // With nothing left to apply the tracer detaches, so later calls take the untraced paths again.
            if (_edits.Count == 0) Machine.Tracer.OnStop = null;
        };
    }
    public LinuxMachine Machine { get; }

    public override string ToString() => $"{Vendor} {Kernel} ({KernelBits}-bit kernel, {Bitness}-bit task)";
}

/// <summary>Where the 32-bit vDSO sits and which entry its __kernel_vsyscall uses after alternatives.</summary>
/// <param name="Base">The mapping's base (AT_SYSINFO_EHDR).</param>
/// <param name="KernelVsyscall">__kernel_vsyscall (AT_SYSINFO).</param>
/// <param name="LandingPad">int80_landing_pad, where v4.3+ fast exits return; null for the pre-rewrite images.</param>
/// <param name="SysenterReturn">SYSENTER_RETURN in the pre-rewrite sysenter image; null otherwise.</param>
/// <param name="EntryVariant">"sysenter", "syscall" or "int80".</param>
/// <param name="Flavor">"unified" (v4.3+) or the pre-rewrite image chosen at boot.</param>
public sealed record EmuVdso(ulong Base, ulong KernelVsyscall, ulong? LandingPad, ulong? SysenterReturn, string EntryVariant, string Flavor);
