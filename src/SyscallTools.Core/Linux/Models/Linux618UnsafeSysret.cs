namespace SyscallTools.Core.Linux.Models;

/// <summary>
/// A deliberately unsafe variant of linux-6.18 whose SYSRETQ policy forgets the "ip &lt; TASK_SIZE_MAX" check, to show
/// why the check exists: on Intel a non-canonical RCX makes SYSRET #GP in ring 0 with the user's RSP loaded
/// (CVE-2012-0217); on AMD the return completes and the fetch faults in user mode.
/// </summary>
public sealed class Linux618UnsafeSysret : KernelModel
{
    private readonly Linux618 _base = new();

    public override string Name => "linux-6.18-unsafe-sysret";
    public override string Description => "linux-6.18 with the SYSRETQ address check removed (an experiment, not a kernel): shows Intel's ring-0 #GP and AMD's user-mode fault.";
    public override string Follows => "linux-6.18, minus the regs->ip < TASK_SIZE_MAX test in do_syscall_64";
    public override string Release => "6.18.0-unsafe";
    public override EntryGeneration Generation => EntryGeneration.Modern;

    public override ExitDecision Syscall64Exit(ExitInputs x)
    {
        var d = _base.Syscall64Exit(x);
        var checks = d.Checks.Where(c => !c.Name.Contains("TASK_SIZE_MAX", StringComparison.Ordinal)).ToList();
        var failed = checks.FirstOrDefault(c => !c.Passed);
        return failed is null
            ? new ExitDecision("SYSRETQ", Name, "every remaining condition for SYSRETQ holds (the address check was removed)", checks)
            : new ExitDecision("IRET", Name, $"{failed.Name} failed: {failed.Why}", checks);
    }

    public override ExitDecision FastSyscall32Exit(ExitInputs x) => _base.FastSyscall32Exit(x) with { Model = Name };
}
