using SyscallTools.Core.Linux.Exec;
using SyscallTools.Core.Linux.Syscalls;

namespace SyscallTools.Core.Linux;

/// <summary>Running an exec'd program to its end, recording every system call it makes.</summary>
public sealed partial class LinuxMachine
{
    /// <summary>
    /// Runs the program <see cref="Exec"/> loaded until it exits, is killed, blocks for ever, the kernel oopses, the
    /// budget runs out or <paramref name="cancel"/> fires. A tracer attached to <see cref="Tracer"/> stops it as any task.
    /// </summary>
    public ProcessRunResult RunProcess(long budget = 100_000_000, CancellationToken cancel = default)
    {
        return RunProcess(budget, MaxRecordedEntries, cancel);
    }

    /// <summary>How many kernel entries a run records by default: beyond them only a count is kept.</summary>
    public const int MaxRecordedEntries = 100_000;

    /// <summary>As <see cref="RunProcess(long, CancellationToken)"/>, keeping at most <paramref name="maxRecorded"/> kernel entries.</summary>
    public ProcessRunResult RunProcess(long budget, int maxRecorded, CancellationToken cancel = default)
    {
        var layout = ExecLayout ?? throw new InvalidOperationException("Nothing has been exec'd on this machine: call Exec first.");
        if (Task.Exited) throw new InvalidOperationException("The task has already exited; make a new machine.");
        var (run, observer) = RunObserved(ulong.MaxValue, budget, false, cancel, maxRecorded);
        var calls = new List<ProcessSyscall>();
        var notModelled = new List<string>();
        foreach (var e in observer.Entries)
        {
            if (e.Entry is EntryKind.None or EntryKind.Exception) continue;
            // A number at or above NR_syscalls never reaches the table (the entry answers -ENOSYS itself): orig_ax has it.
            long number = e.Number >= 0 ? e.Number : OrigAxOf(e) ?? -1;
            if (number < 0) continue;
            var abi = e.Entry == EntryKind.Int80 || Task.Bitness == 32 ? SyscallAbi.I386 : SyscallAbi.X86_64;
            var row = SyscallTable.For(abi).ByNumber(number);
            // Out of range is the kernel's own -ENOSYS, not a gap in the model.
            bool modelled = row?.Modelled ?? number >= SyscallTable.NrSyscalls;
            string name = row?.Name ?? $"syscall {number}";
            if (!modelled && !notModelled.Contains(name)) notModelled.Add(name);
            // The value the call produced, as strace shows it (-ERESTARTSYS when a handler then ran); ax as the kernel
            // left it where no implementation ran. Nothing for a call that never returned.
            long? ret = e.ExitInstruction is null ? null : e.Return is long v ? (Task.Bitness == 32 ? (int)v : v) : ReturnOf(e);
            calls.Add(new ProcessSyscall
            {
                Index = calls.Count + 1,
                Number = number,
                Name = name,
                EntryInstruction = e.Entry switch { EntryKind.Sysenter => "SYSENTER", EntryKind.Int80 => "INT 0x80", _ => "SYSCALL" },
                EntryStub = e.EntryStub,
                ViaVdso = Task.VdsoBase != 0 && e.EntryIp >= Task.VdsoBase && e.EntryIp < Task.VdsoBase + (ulong)(Vdso?.Bytes.Length ?? 0),
                ExitInstruction = e.ExitInstruction,
                ExitSymbol = e.ExitIp is ulong ip ? Symbolize(ip) : null,
                Return = ret,
                Errno = ret is long r ? Errno.FromReturn(r) : null,
                Modelled = modelled,
                Signal = e.Signal is int s ? Signal.Name(s) : null,
                ExitPath = e.Exit,
            });
        }
        var fault = run.Fault ?? observer.UserFault;
        string outcome = Task.Exited
            ? (Task.KilledBy is int k ? $"killed by {Signal.Name(k)}" : $"exited with status {Task.ExitStatus}")
            : run.ToString();
        return new ProcessRunResult
        {
            Path = Task.ExecPath ?? "",
            Bitness = Task.Bitness,
            Kernel = Model.Name,
            Vendor = Cpu.Profile.Vendor.ToString(),
            Outcome = outcome,
            Exited = Task.Exited,
            ExitStatus = Task.Exited && Task.KilledBy is null ? Task.ExitStatus : null,
            Signal = Task.KilledBy is int ks ? Signal.Name(ks) : null,
            Stdout = Task.Stdout,
            Stderr = Task.Stderr,
            Syscalls = calls,
            NotModelledSyscalls = notModelled,
            UnrecordedEntries = observer.Dropped,
            NotModelledInstruction = fault?.NotModelled is string nm ? $"{nm} at 0x{fault.Rip:x}: {Cpu.Disassemble(fault.Rip, Task.Bitness) ?? "?"}" : null,
            Fault = fault,
            Oops = observer.Entries.Select(e => e.Oops).FirstOrDefault(x => x is not null) ?? Current.Oops,
            Blocked = observer.Entries.Select(e => e.Blocked).LastOrDefault(x => x is not null),
            UserInstructions = observer.User,
            KernelInstructions = observer.Kernel,
            Layout = layout,
            KernelEntries = observer.Entries.ToArray(),
        };
    }

    /// <summary>ax as pt_regs held it when the kernel left, sign-extended from the task's width.</summary>
    private long? ReturnOf(KernelCallRecord e) => RegisterAtExit(e, "ax");

    private long? OrigAxOf(KernelCallRecord e) => RegisterAtExit(e, "orig_ax");

    private long? RegisterAtExit(KernelCallRecord e, string register)
    {
        if (e.PtRegsAtExit is null) return null;
        foreach (var (name, value) in e.PtRegsAtExit)
            if (name == register) return Task.Bitness == 32 || KernelBits == 32 ? (int)value : (long)value;
        return null;
    }
}
